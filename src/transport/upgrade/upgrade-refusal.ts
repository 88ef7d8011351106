import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket, so a client sees a
 * status code (404, 403, 503) rather than a reset or a hang.
 */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  body = STATUS_CODES[status] ?? '',
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Node dropped its error listener when it handed the socket over: a client that resets
  // before reading the answer would otherwise raise an uncaught error and end the process.
  socket.on('error', ignoreSocketError);
  const length = Buffer.byteLength(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${length}\r\n\r\n${body}`,
  );
}

/**
 * An error listener for a socket Node no longer watches (after 'upgrade') that is being closed
 * anyway: its error needs no handling, but without a listener it would crash the process.
 */
export function ignoreSocketError(): void {}
