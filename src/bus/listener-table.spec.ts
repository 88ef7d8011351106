import type { Logger } from '@nestjs/common';
import type { BusMessage, JsonValue } from './bus';
import { ListenerTable } from './listener-table';

const message = (topic: string, data: string): BusMessage => ({ topic, data });

describe('ListenerTable', () => {
  let logger: { error: jest.Mock };
  let table: ListenerTable;

  beforeEach(() => {
    logger = { error: jest.fn() };
    table = new ListenerTable(logger as unknown as Logger);
  });

  describe('reference counting per (topic, listener)', () => {
    it('reports the first listener of a topic and the removal of its last', () => {
      const a = jest.fn();
      const b = jest.fn();
      expect(table.add('t', a)).toBe(true);
      expect(table.add('t', b)).toBe(false);
      expect(table.remove('t', a)).toBe(false);
      expect(table.remove('t', b)).toBe(true);
      expect(table.has('t')).toBe(false);
      expect(table.size).toBe(0);
    });

    it('still delivers after subscribe twice, unsubscribe once; forgets the topic after the second', () => {
      const listener = jest.fn();
      expect(table.add('t', listener)).toBe(true);
      expect(table.add('t', listener)).toBe(false);

      expect(table.remove('t', listener)).toBe(false);
      table.dispatch(message('t', 'still here'));
      expect(listener).toHaveBeenCalledTimes(1);
      expect(table.size).toBe(1);

      expect(table.remove('t', listener)).toBe(true);
      table.dispatch(message('t', 'gone'));
      expect(listener).toHaveBeenCalledTimes(1);
      expect(table.size).toBe(0);
      expect([...table.topicNames()]).toEqual([]);
    });

    it('calls a listener subscribed twice once per message (at-most-once)', () => {
      const listener = jest.fn();
      table.add('t', listener);
      table.add('t', listener);
      table.dispatch(message('t', 'once'));
      expect(listener).toHaveBeenCalledTimes(1);
    });

    it('ignores the removal of a listener it does not hold', () => {
      const held = jest.fn();
      table.add('t', held);
      expect(table.remove('t', jest.fn())).toBe(false);
      expect(table.remove('other', held)).toBe(false);
      expect(table.size).toBe(1);
    });
  });

  describe('dispatch', () => {
    it('delivers synchronously, in subscription order, to the topic’s listeners only', () => {
      const calls: [string, JsonValue][] = [];
      table.add('t', (m) => calls.push(['first', m.data]));
      table.add('t', (m) => calls.push(['second', m.data]));
      table.add('other', (m) => calls.push(['other', m.data]));

      table.dispatch(message('t', '1'));
      table.dispatch(message('t', '2'));

      expect(calls).toEqual([
        ['first', '1'],
        ['second', '1'],
        ['first', '2'],
        ['second', '2'],
      ]);
    });

    it('passes the message through unchanged', () => {
      const listener = jest.fn();
      table.add('t', listener);
      const sent: BusMessage = { topic: 't', data: { a: [1] }, sender: 'c1', skipSender: true };
      table.dispatch(sent);
      expect(listener).toHaveBeenCalledWith(sent);
    });

    it('keeps calling the other listeners when one throws, and logs it', () => {
      const before = jest.fn();
      const after = jest.fn();
      table.add('t', before);
      table.add('t', () => {
        throw new Error('boom');
      });
      table.add('t', after);

      expect(() => table.dispatch(message('t', 'x'))).not.toThrow();

      expect(before).toHaveBeenCalledTimes(1);
      expect(after).toHaveBeenCalledTimes(1);
      expect(logger.error).toHaveBeenCalledTimes(1);
    });

    it('does nothing for a topic without listeners', () => {
      expect(() => table.dispatch(message('nobody', 'x'))).not.toThrow();
      expect(table.size).toBe(0);
    });
  });
});
