import WebSocket from 'ws';
import request from 'supertest';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { ConnectionRegistry } from '../src/connections/connection-registry';
import type { LogDestination } from '../src/logging/json-log';
import { startApp, type RunningApp } from './support/app';
import { waitForValue, withTimeout } from './support/wait';
import { TestClient } from './support/ws-client';

const SECRET = 'e2e-logging-secret';
const token = new TokenSigner({ secret: SECRET }, new SystemClock()).sign(
  { sub: 'alice', name: 'Alice' },
  300,
);

type Entry = Record<string, unknown> & { readonly level: string };

/** Keeps every line the application logs, as written. */
class LogCapture implements LogDestination {
  readonly lines: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.lines.push(line);
  }

  /** Every line parsed; throws, naming the line, if one is not a JSON object. */
  entries(): Entry[] {
    return this.lines.map((line) => {
      const entry: unknown = JSON.parse(line);
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw new Error(`Not a JSON object: ${line}`);
      }
      return entry as Entry;
    });
  }
}

/** Connects to /ws/secure with `headers`, exchanges one message, then closes normally. */
async function secureSession(url: string, headers: Record<string, string> = {}): Promise<void> {
  const socket = new WebSocket(url, { headers });
  const greeted = new Promise<string>((resolve, reject) => {
    socket.once('open', () => socket.send('hi'));
    socket.once('message', (data: Buffer) => resolve(data.toString()));
    socket.once('close', (code) => reject(new Error(`closed with ${code} before a reply`)));
    socket.once('error', reject);
  });
  try {
    expect(await withTimeout(greeted, 2000, `the greeting on ${url}`)).toBe('Hello Alice: hi');
  } finally {
    socket.close(1000);
  }
}

/**
 * A session that offers the token every way a client can: in the query and in Authorization,
 * on WebSocket upgrades and on HTTP requests. HTTP first, so that its lines (written when each
 * response finishes) are out long before the WebSocket session ends.
 */
async function tokenEverywhere(running: RunningApp): Promise<void> {
  const bearer = { Authorization: `Bearer ${token}` };
  expect((await request(running.server).get('/health').set(bearer)).status).toBe(200);
  expect((await request(running.server).get(`/health?token=${token}`)).status).toBe(200);
  expect((await request(running.server).get(`/nowhere?a=1&token=${token}`)).status).toBe(404);

  await secureSession(`${running.wsUrl}/ws/secure?token=${token}`);
  await secureSession(`${running.wsUrl}/ws/secure`, bearer);
  const echo = await TestClient.open(`${running.wsUrl}/ws`);
  await echo.close();
  // The close line is written as the server forgets the connection.
  const connections = running.app.get(ConnectionRegistry);
  await waitForValue(() => connections.size, 0, 'the number of open connections');
}

// Nest's Logger is process-wide (the last application created owns it), so each application
// here is closed before the next one starts.
describe('structured logs', () => {
  describe('with LOG_LEVEL=info', () => {
    const capture = new LogCapture();
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp(
        { JWT_SECRET: SECRET, LOG_LEVEL: 'info' },
        { logDestination: capture },
      );
      await tokenEverywhere(running);
    });

    afterAll(async () => {
      await running.close();
    });

    it('writes every line as one JSON object with a level name and a time', () => {
      const entries = capture.entries();
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect(['info', 'warn', 'error', 'fatal']).toContain(entry.level);
        expect(typeof entry.time).toBe('number');
      }
    });

    it("sends Nest's own bootstrap lines through the same logger", () => {
      expect(capture.entries()).toContainEqual(
        expect.objectContaining({
          level: 'info',
          context: 'NestApplication',
          msg: 'Nest application successfully started',
        }),
      );
    });

    it('logs one open and one close line per connection: endpoint, id, close code, duration', () => {
      const entries = capture.entries();
      const opens = entries.filter((entry) => entry.msg === 'connection open');
      const closes = new Map(
        entries
          .filter((entry) => entry.msg === 'connection closed')
          .map((entry) => [entry.id, entry]),
      );
      expect(opens.map((entry) => entry.endpoint)).toEqual(['secure', 'secure', 'echo']);
      expect(closes.size).toBe(opens.length);
      // The server may see the closes in another order than the opens: match them by id.
      const expectedCodes = [1000, 1000, 1005];
      opens.forEach((open, index) => {
        expect(open).toMatchObject({ level: 'info', context: 'SwitchboardWsAdapter' });
        expect(typeof open.id).toBe('string');
        const close = closes.get(open.id);
        expect(close).toMatchObject({
          level: 'info',
          context: 'SwitchboardWsAdapter',
          endpoint: open.endpoint,
          code: expectedCodes[index],
        });
        expect(close?.durationMs).toEqual(expect.any(Number));
        expect(close?.durationMs).toBeGreaterThanOrEqual(0);
      });
    });

    it('logs HTTP requests with Authorization and the token query parameter redacted', () => {
      const requests = capture
        .entries()
        .filter((entry) => entry.msg === 'request completed')
        .map((entry) => entry.req as { url: string; headers: Record<string, string> });
      expect(requests.map((req) => req.url)).toEqual([
        '/health',
        '/health?token=[REDACTED]',
        '/nowhere?a=1&token=[REDACTED]',
      ]);
      expect(requests[0].headers.authorization).toBe('[REDACTED]');
      for (const req of requests) expect(req).not.toHaveProperty('query');
    });

    it('never logs a WebSocket upgrade as an HTTP request', () => {
      const urls = capture
        .entries()
        .map((entry) => (entry.req as { url?: string } | undefined)?.url);
      expect(urls.filter((url) => url?.startsWith('/ws'))).toEqual([]);
    });

    it('writes the token in no line, not even a part of it', () => {
      const [, payload, signature] = token.split('.');
      for (const secret of [token, payload, signature]) {
        expect(capture.lines.filter((line) => line.includes(secret))).toEqual([]);
      }
    });
  });

  describe('with LOG_LEVEL=warn', () => {
    const capture = new LogCapture();
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp(
        { JWT_SECRET: SECRET, LOG_LEVEL: 'warn' },
        { logDestination: capture },
      );
      await tokenEverywhere(running);
    });

    afterAll(async () => {
      await running.close();
    });

    it('writes no info line: no bootstrap, request or connection line', () => {
      const entries = capture.entries();
      expect(entries.filter((entry) => !['warn', 'error', 'fatal'].includes(entry.level))).toEqual(
        [],
      );
      expect(entries.filter((entry) => entry.msg === 'connection open')).toEqual([]);
    });
  });
});
