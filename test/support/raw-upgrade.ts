import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { withTimeout, WAIT_MS } from './wait';

/**
 * How the server answered an upgrade request: with a plain HTTP status, or by upgrading. After
 * an upgrade the client at once sends a close frame with code 1000; `code` is the first close
 * frame the server sent back. 1000 is the echo of ours, so the server had accepted the socket;
 * any other code is a close the server started on its own (1008 for a refused id or token).
 */
export type UpgradeOutcome =
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'upgraded'; readonly code: number; readonly reason: string };

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Sends a WebSocket upgrade request for `target` byte for byte over a plain TCP socket, and
 * resolves with the server's answer. A real client would normalize the target (dot segments,
 * escapes) before sending it; this one does not, so a test can reach the server's own parsing.
 * Rejects when the connection ends without an answer or nothing comes within `timeoutMs`.
 */
export async function rawUpgrade(
  port: number,
  target: string | Buffer,
  timeoutMs = WAIT_MS,
): Promise<UpgradeOutcome> {
  const socket = connect(port, '127.0.0.1');
  const answered = new Promise<UpgradeOutcome>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf(HEADER_END);
        if (end === -1) return;
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(received.subarray(0, end).toString('latin1'));
        if (!status) {
          reject(new Error(`Not an HTTP answer: ${received.subarray(0, 80).toString('latin1')}`));
          return;
        }
        if (status[1] !== '101') {
          resolve({ kind: 'http', status: Number(status[1]) });
          return;
        }
        upgraded = true;
        received = received.subarray(end + HEADER_END.length);
        socket.write(maskedCloseFrame(1000));
      }
      const close = firstCloseFrame(received);
      if (close) resolve({ kind: 'upgraded', ...close });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`The connection ended without an answer`)));
  });
  const targetBytes = typeof target === 'string' ? Buffer.from(target, 'latin1') : target;
  socket.write(
    Buffer.concat([
      Buffer.from('GET ', 'latin1'),
      targetBytes,
      Buffer.from(
        ' HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          'Sec-WebSocket-Version: 13\r\n\r\n',
        'latin1',
      ),
    ]),
  );
  try {
    return await withTimeout(
      answered,
      timeoutMs,
      `an answer to the upgrade of ${describe(target)}`,
    );
  } finally {
    socket.destroy();
  }
}

/** A client close frame (clients must mask) carrying `code` and no reason. */
function maskedCloseFrame(code: number): Buffer {
  const mask = randomBytes(4);
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]);
}

/** The first complete close frame among the server's (unmasked) frames in `data`, if any. */
function firstCloseFrame(data: Buffer): { code: number; reason: string } | undefined {
  let offset = 0;
  while (offset + 2 <= data.length) {
    const opcode = data[offset] & 0x0f;
    let length = data[offset + 1] & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (start + 2 > data.length) return undefined;
      length = data.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > data.length) return undefined;
      length = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > data.length) return undefined;
    if (opcode === 0x8) {
      const payload = data.subarray(start, start + length);
      return payload.length >= 2
        ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
        : { code: 1005, reason: '' };
    }
    offset = start + length;
  }
  return undefined;
}

function describe(target: string | Buffer): string {
  const text = typeof target === 'string' ? target : target.toString('latin1');
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…(${text.length})` : text);
}
