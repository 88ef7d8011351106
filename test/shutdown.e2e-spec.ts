import { connect, type Socket } from 'node:net';
import { ensureBuilt, startServerProcess, type ServerProcess } from './support/server-process';
import { withTimeout } from './support/wait';
import { refusedUpgradeStatus, TestClient } from './support/ws-client';

/**
 * A peer that completes the WebSocket handshake and then never reads or answers anything: the
 * kind that would hold a naive shutdown forever.
 */
async function unresponsivePeer(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  const upgraded = new Promise<void>((resolve, reject) => {
    socket.once('data', (data: Buffer) => {
      if (data.toString().startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`handshake refused: ${data.toString().split('\r\n')[0]}`));
    });
    socket.once('error', reject);
  });
  socket.write(
    'GET /ws/room/stuck HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await withTimeout(upgraded, 2000, 'the raw handshake');
  socket.pause();
  return socket;
}

describe('graceful shutdown (real process)', () => {
  let server: ServerProcess | undefined;

  beforeAll(() => ensureBuilt(), 130_000);

  afterEach(() => server?.kill());

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s closes every socket with 1001 "Server shutting down" and exits 0',
    async (signal) => {
      server = await startServerProcess({ SHUTDOWN_TIMEOUT_MS: '5000' });
      const base = `ws://127.0.0.1:${server.port}`;
      const room = await TestClient.open(`${base}/ws/room/r`);
      const json = await TestClient.open(`${base}/ws/json`);
      const started = Date.now();
      server.child.kill(signal);
      expect(await room.closed(5000)).toEqual({ code: 1001, reason: 'Server shutting down' });
      expect(await json.closed(5000)).toEqual({ code: 1001, reason: 'Server shutting down' });
      expect(await withTimeout(server.exited, 5000, 'the process to exit')).toBe(0);
      // Cooperative peers close at once: no waiting for the timeout.
      expect(Date.now() - started).toBeLessThan(4000);
    },
    20_000,
  );

  it('refuses new upgrades with 503 and reports not ready while draining, and a peer that ignores the close does not hold it past SHUTDOWN_TIMEOUT_MS', async () => {
    const timeoutMs = 1500;
    server = await startServerProcess({ SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const stuck = await unresponsivePeer(server.port);
    const polite = await TestClient.open(`ws://127.0.0.1:${server.port}/ws`);
    const started = Date.now();
    server.child.kill('SIGTERM');
    expect(await polite.closed(3000)).toEqual({ code: 1001, reason: 'Server shutting down' });

    expect(await refusedUpgradeStatus(`ws://127.0.0.1:${server.port}/ws`)).toBe(503);
    const ready = await fetch(`http://127.0.0.1:${server.port}/ready`);
    expect(ready.status).toBe(503);

    expect(await withTimeout(server.exited, timeoutMs + 4000, 'the process to exit')).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(timeoutMs - 100);
    expect(took).toBeLessThan(timeoutMs + 3000);
    stuck.destroy();
  }, 20_000);
});
