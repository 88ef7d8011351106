import { Logger } from '@nestjs/common';
import type { BusMessage, JsonValue } from './bus';
import { InMemoryBus } from './in-memory-bus';

const message = (topic: string, data: string): BusMessage => ({ topic, data });

describe('InMemoryBus', () => {
  let bus: InMemoryBus;

  beforeEach(() => {
    bus = new InMemoryBus();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('delivers inside publish, before it returns, in publish order', () => {
    const received: JsonValue[] = [];
    bus.subscribe('t', (m) => received.push(m.data));

    bus.publish(message('t', '1'));
    expect(received).toEqual(['1']);
    bus.publish(message('t', '2'));
    bus.publish(message('t', '3'));
    expect(received).toEqual(['1', '2', '3']);
  });

  it('delivers to the subscribers of the topic only', () => {
    const t = jest.fn();
    const other = jest.fn();
    bus.subscribe('t', t);
    bus.subscribe('other', other);

    bus.publish(message('t', 'x'));

    expect(t).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
  });

  it('counts subscriptions: subscribe twice, unsubscribe once still delivers; topicCount returns to 0', () => {
    const listener = jest.fn();
    bus.subscribe('t', listener);
    bus.subscribe('t', listener);
    expect(bus.topicCount).toBe(1);

    bus.unsubscribe('t', listener);
    bus.publish(message('t', 'still subscribed'));
    expect(listener).toHaveBeenCalledTimes(1);
    expect(bus.topicCount).toBe(1);

    bus.unsubscribe('t', listener);
    bus.publish(message('t', 'unsubscribed'));
    expect(listener).toHaveBeenCalledTimes(1);
    expect(bus.topicCount).toBe(0);
  });

  it('keeps delivering to the other listeners when one throws', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const after = jest.fn();
    bus.subscribe('t', () => {
      throw new Error('boom');
    });
    bus.subscribe('t', after);

    expect(() => bus.publish(message('t', 'x'))).not.toThrow();

    expect(after).toHaveBeenCalledTimes(1);
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it('is always connected, and a publish nobody listens to is a no-op', () => {
    expect(bus.connected).toBe(true);
    expect(() => bus.publish(message('nobody-listens', 'x'))).not.toThrow();
    expect(bus.topicCount).toBe(0);
  });
});
