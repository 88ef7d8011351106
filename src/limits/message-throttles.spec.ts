import type { DiscoveryService } from '@nestjs/core';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Clock } from '../common/clock';
import { ConnectionRegistry } from '../connections/connection-registry';
import type { EndpointDefinition } from '../protocol/endpoints';
import type { Connection } from '../transport/socket/connection';
import { MessageThrottles } from './message-throttles';

class FakeClock extends Clock {
  time = 0;
  now(): number {
    return this.time;
  }
}

const text = { name: 'echo', path: '/t', format: 'text', params: {} } as const;
const json = { name: 'json', path: '/j', format: 'json', params: {} } as const;
const plain = { name: 'room', path: '/p', format: 'text', params: {} } as const;

@WebSocketGateway({ endpoint: text })
@Throttle({ default: { limit: 2, ttl: 1000 } })
class TextGateway {
  @SubscribeMessage('text')
  text(@MessageBody() body: string): string {
    return body;
  }
}

@WebSocketGateway({ endpoint: json })
@Throttle({ default: { limit: 3, ttl: 1000 } })
class JsonGateway {
  @SubscribeMessage('ping')
  ping(): void {}

  @SubscribeMessage('pong')
  @SkipThrottle()
  pong(): void {}

  @SubscribeMessage('publish')
  @Throttle({ default: { limit: 1, ttl: 1000 } })
  publish(): void {}
}

@WebSocketGateway({ endpoint: plain })
class PlainGateway {
  @SubscribeMessage('text')
  text(): void {}
}

/** MessageThrottles over the three fake gateways, with a module limit of 5 per second. */
function build() {
  const clock = new FakeClock();
  const connections = new ConnectionRegistry();
  const providers = [TextGateway, JsonGateway, PlainGateway].map((metatype) => ({
    metatype,
    instance: new metatype(),
  }));
  const discovery = { getProviders: () => providers } as unknown as DiscoveryService;
  const throttles = new MessageThrottles(
    discovery,
    { throttlers: [{ name: 'default', limit: 5, ttl: 1000 }] },
    clock,
    connections,
  );
  throttles.onModuleInit();
  const connect = (endpoint: EndpointDefinition) => {
    const connection = { endpoint } as Connection;
    connections.add(connection);
    return connection;
  };
  return { clock, connections, throttles, connect };
}

const times = (n: number, f: () => boolean) => Array.from({ length: n }, f);

describe('MessageThrottles', () => {
  it('limits an endpoint by its class decorator, each connection on its own', () => {
    const { throttles, connect } = build();
    const a = connect(text);
    const b = connect(text);
    expect(times(3, () => throttles.allowFrame(a))).toEqual([true, true, false]);
    expect(throttles.allowFrame(b)).toBe(true);
  });

  it('limits an endpoint without a decorator by the module throttler', () => {
    const { throttles, connect } = build();
    const c = connect(plain);
    expect(times(6, () => throttles.allowFrame(c))).toEqual([true, true, true, true, true, false]);
  });

  it('takes a skipped handler message out of the endpoint budget', () => {
    const { throttles, connect } = build();
    const c = connect(json);
    for (let i = 0; i < 10; i++) {
      expect(throttles.allowFrame(c)).toBe(true);
      expect(throttles.allowHandler(c, 'pong')).toBe(true);
    }
    expect(times(4, () => throttles.allowFrame(c))).toEqual([true, true, true, false]);
  });

  it('counts a handler with its own limit against that limit, not the endpoint budget', () => {
    const { throttles, connect, clock } = build();
    const c = connect(json);
    expect(throttles.allowFrame(c) && throttles.allowHandler(c, 'publish')).toBe(true);
    expect(throttles.allowFrame(c) && throttles.allowHandler(c, 'publish')).toBe(false);
    // Both publishes left the endpoint budget: three pings still fit.
    expect(times(3, () => throttles.allowFrame(c) && throttles.allowHandler(c, 'ping'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(throttles.allowFrame(c)).toBe(false);
    clock.time = 1000;
    expect(throttles.allowFrame(c) && throttles.allowHandler(c, 'publish')).toBe(true);
  });

  it('frees every record of a connection when it is removed', () => {
    const { throttles, connect, connections } = build();
    const c = connect(json);
    const d = connect(plain);
    throttles.allowFrame(c);
    throttles.allowHandler(c, 'publish');
    throttles.allowFrame(d);
    expect(throttles.size).toBe(3);
    connections.remove(c);
    connections.remove(d);
    expect(throttles.size).toBe(0);
  });
});
