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
  const length = Buffer.byteLength(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${length}\r\n\r\n${body}`,
  );
}
