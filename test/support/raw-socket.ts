import { connect, type Socket } from 'node:net';
import { withTimeout, WAIT_MS } from './wait';

/** How a raw socket ended: after how long, and what the server sent before. */
export interface SocketEnd {
  readonly afterMs: number;
  readonly received: string;
}

/** A TCP connection to 127.0.0.1:`port` that has connected and sent nothing. */
export function openSilentSocket(port: number, timeoutMs = WAIT_MS): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  const connected = new Promise<Socket>((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
  return withTimeout(connected, timeoutMs, `a connection to port ${port}`).catch((error) => {
    socket.destroy();
    throw error;
  });
}

/**
 * Resolves when the server ends `socket` (close or reset), with what it sent; rejects after
 * `timeoutMs`. The clock starts now.
 */
export function socketEnd(socket: Socket, timeoutMs: number): Promise<SocketEnd> {
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined); // a reset is an end like any other here
  const ended = new Promise<SocketEnd>((resolve) => {
    const done = () => resolve({ afterMs: Date.now() - started, received });
    if (socket.destroyed) done();
    else socket.once('close', done);
  });
  return withTimeout(ended, timeoutMs, 'the server to close the socket');
}
