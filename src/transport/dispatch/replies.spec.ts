import { EventEmitter } from 'node:events';
import { Subject } from 'rxjs';
import { Endpoints } from '../../protocol/endpoints';
import type { Connection } from '../socket/connection';
import { settleReply } from './replies';

/** The part of a Connection replies use: its endpoint, whether it is open, sendText, 'close'. */
function fakeConnection(format: 'text' | 'json' = 'json') {
  const sent: string[] = [];
  const socket = Object.assign(new EventEmitter(), {
    endpoint: format === 'json' ? Endpoints.json : Endpoints.echo,
    isOpen: true,
    sendText: (text: string) => sent.push(text),
  });
  return { connection: socket as unknown as Connection, socket, sent };
}

describe('settleReply', () => {
  it('sends a value at once and returns nothing to wait for', () => {
    const { connection, sent } = fakeConnection();
    expect(settleReply(connection, { type: 'pong', data: {} }, 7)).toBeUndefined();
    expect(sent).toEqual(['{"type":"pong","data":{},"id":7}']);
  });

  it('sends every value of an observable in order and settles when it completes', async () => {
    const { connection, sent } = fakeConnection();
    const values = new Subject<unknown>();
    const settled = settleReply(connection, Promise.resolve(values), 'a');
    await Promise.resolve();
    await Promise.resolve();
    values.next({ type: 'n', data: 1 });
    values.next({ type: 'n', data: 2 });
    expect(sent).toEqual(['{"type":"n","data":1,"id":"a"}', '{"type":"n","data":2,"id":"a"}']);
    values.complete();
    await expect(settled).resolves.toBeUndefined();
  });

  it('answers an observable’s error in the endpoint’s shape', async () => {
    const { connection, sent } = fakeConnection('text');
    const values = new Subject<unknown>();
    const settled = settleReply(connection, values);
    values.next('first');
    values.error(new Error('a bug'));
    await settled;
    expect(sent).toEqual(['first', '{"error":"Internal server error"}']);
  });

  it('unsubscribes from an observable still running when the socket closes', async () => {
    const { connection, socket } = fakeConnection();
    const values = new Subject<unknown>();
    const settled = settleReply(connection, values);
    expect(values.observed).toBe(true);
    socket.emit('close');
    await settled;
    expect(values.observed).toBe(false);
    expect(socket.listenerCount('close')).toBe(0);
  });
});
