import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import { SystemClock } from '../common/clock';
import { PendingSockets } from './pending-sockets';

/** A socket as PendingSockets sees it: events and destroy(). */
class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

describe('PendingSockets', () => {
  let server: EventEmitter;
  let sockets: PendingSockets;

  beforeEach(() => {
    server = new EventEmitter();
    sockets = new PendingSockets(2, new SystemClock());
    sockets.attach(server as unknown as HttpServer);
  });

  it('counts a socket until it closes, and destroys one past the cap', () => {
    const [a, b, c] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const socket of [a, b, c]) server.emit('connection', socket);
    expect([sockets.pending, sockets.refused, c.destroyed]).toEqual([2, 1, true]);
    a.emit('close');
    a.emit('close');
    expect(sockets.pending).toBe(1);
  });

  it('keeps no listener on an upgraded socket: a WebSocket holds nothing of it for its life', () => {
    const socket = new FakeSocket();
    server.emit('connection', socket);
    expect(socket.listenerCount('close')).toBe(1);
    server.emit('upgrade', {}, socket);
    expect([sockets.pending, socket.listenerCount('close')]).toEqual([0, 0]);
    socket.emit('close');
    expect(sockets.pending).toBe(0);
  });
});
