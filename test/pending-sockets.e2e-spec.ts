import type { Socket } from 'node:net';
import { PendingSockets } from '../src/limits/pending-sockets';
import { useApp, type RunningApp } from './support/app';
import { openSilentSocket, socketEnd } from './support/raw-socket';
import { ensureBuilt, startServerProcess, type ServerProcess } from './support/server-process';
import { waitForValue, withTimeout } from './support/wait';
import { TestClient } from './support/ws-client';

const HEADERS_TIMEOUT_MS = 500;

let sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets = [];
});

async function silent(port: number, count: number): Promise<Socket[]> {
  const opened: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = await openSilentSocket(port);
    socket.on('error', () => undefined);
    opened.push(socket);
    sockets.push(socket);
  }
  return opened;
}

function portOf(running: RunningApp): number {
  return Number(new URL(running.httpUrl).port);
}

async function healthStatus(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, {
    signal: AbortSignal.timeout(2000),
  });
  return response.status;
}

describe('sockets before the upgrade', () => {
  describe(`HTTP_HEADERS_TIMEOUT_MS=${HEADERS_TIMEOUT_MS}`, () => {
    const fixture = useApp({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });

    it('closes a silent socket with 408 within about the timeout', async () => {
      const [socket] = await silent(portOf(fixture.running), 1);
      const end = await socketEnd(socket, 4 * HEADERS_TIMEOUT_MS);
      expect(end.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(end.afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      // The check runs every tenth of the timeout (at least 100 ms).
      expect(end.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 400);
    });

    it('closes a socket that sends its request head a byte at a time', async () => {
      const [socket] = await silent(portOf(fixture.running), 1);
      const head = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'x'.repeat(200);
      let sent = 0;
      const drip = setInterval(() => {
        if (sent < head.length && !socket.destroyed) socket.write(head[sent++]);
      }, 20);
      try {
        const end = await socketEnd(socket, 4 * HEADERS_TIMEOUT_MS);
        expect(end.received).toMatch(/^HTTP\/1\.1 408 /);
        expect(end.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 400);
        expect(sent).toBeLessThan(head.length); // still dripping when it was cut off
      } finally {
        clearInterval(drip);
      }
    });

    it('leaves WebSockets alone: an upgraded socket outlives the timeout', async () => {
      const client = await TestClient.open(`${fixture.running.wsUrl}/ws`);
      try {
        // A real-time wait is the point: Node's HTTP server enforces the timeout on its own
        // timers (no Clock to fake), and the test shows that nothing happens when it runs out.
        await new Promise((resolve) => setTimeout(resolve, 2 * HEADERS_TIMEOUT_MS));
        client.send('still here');
        expect(await client.nextText()).toBe('Echo: still here');
      } finally {
        await client.close();
      }
    });
  });

  describe('MAX_PENDING_SOCKETS=5', () => {
    const fixture = useApp({ MAX_PENDING_SOCKETS: '5' });

    it('closes a 6th socket that is not a WebSocket at once; WebSockets do not count', async () => {
      const pending = fixture.running.app.get(PendingSockets);
      const clients = await Promise.all(
        Array.from({ length: 8 }, () => TestClient.open(`${fixture.running.wsUrl}/ws`)),
      );
      try {
        await silent(portOf(fixture.running), 5);
        await waitForValue(() => pending.pending, 5, 'pending sockets');

        const [sixth] = await silent(portOf(fixture.running), 1);
        const end = await socketEnd(sixth, 1000);
        expect(end.received).toBe('');
        expect(pending.refused).toBe(1);

        // The WebSockets opened before are served as usual.
        clients[0].send('hello');
        expect(await clients[0].nextText()).toBe('Echo: hello');

        for (const socket of sockets) socket.destroy();
        await waitForValue(() => pending.pending, 0, 'pending sockets');
        expect(await healthStatus(portOf(fixture.running))).toBe(200);
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    });
  });

  describe('with few file descriptors (ulimit -n 96, a real process)', () => {
    let server: ServerProcess | undefined;

    beforeAll(() => {
      ensureBuilt();
    }, 130_000);

    afterEach(async () => {
      server?.kill();
      if (server) await withTimeout(server.exited, 5000, 'the server to exit');
      server = undefined;
    });

    it('keeps serving under a flood of silent sockets: refused, not EMFILE', async () => {
      server = await startServerProcess(
        { MAX_PENDING_SOCKETS: '32', HTTP_HEADERS_TIMEOUT_MS: '60000' },
        15_000,
        { fileDescriptorLimit: 96 },
      );
      const client = await TestClient.open(`ws://127.0.0.1:${server.port}/ws`);
      try {
        const flood = await silent(server.port, 150);
        const ended = await Promise.all(flood.slice(32).map((s) => socketEnd(s, 2000)));
        expect(ended.every((end) => end.received === '')).toBe(true);

        client.send('during the flood');
        expect(await client.nextText()).toBe('Echo: during the flood');

        for (const socket of flood) socket.destroy();
        await waitForHealth(server.port);
        expect(server.output()).toMatch(/MAX_PENDING_SOCKETS \(32\) reached/);
        expect(server.output()).not.toMatch(/EMFILE|File descriptors/);
      } finally {
        await client.close();
      }
    });

    it('warns of EMFILE when descriptors run out (cap set above the limit)', async () => {
      server = await startServerProcess(
        { MAX_PENDING_SOCKETS: '1000', HTTP_HEADERS_TIMEOUT_MS: '60000' },
        15_000,
        { fileDescriptorLimit: 96 },
      );
      const running = server;
      await silent(running.port, 150);
      await waitForValue(
        () =>
          /File descriptors (nearly )?exhausted \(\d+ of 96 in use\).*EMFILE/.test(
            running.output(),
          ),
        true,
        'a warning about EMFILE in the log',
        5000,
      );
      // Rate-limited: one line per 10 s for the whole flood.
      expect(running.output().match(/File descriptors/g)).toHaveLength(1);
    });
  });
});

/** Polls /health until it answers 200 (a refused or timed-out attempt is retried). */
async function waitForHealth(port: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await healthStatus(port)) === 200) return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline)
      throw new Error(`/health did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
