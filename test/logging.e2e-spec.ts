import WebSocket from 'ws';
import request from 'supertest';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { ConnectionRegistry } from '../src/connections/connection-registry';
import type { LogDestination } from '../src/logging/json-log';
import { EnvironmentVariables } from '../src/config/environment';
import { CONNECTION_LOG_WINDOW_MS } from '../src/logging/connection-log';
import { useApp, type RunningApp } from './support/app';
import { WAIT_MS, waitForValue, withTimeout } from './support/wait';
import { refusedUpgradeStatus, TestClient } from './support/ws-client';

const SECRET = 'e2e-logging-secret';
const token = new TokenSigner({ secret: SECRET }, new SystemClock()).sign(
  { sub: 'alice', name: 'Alice' },
  300,
);

const DEFAULTS = new EnvironmentVariables();
const MAX_LINE_CHARS = DEFAULTS.MAX_LOG_LINE_CHARS;
const CONNECTION_LOG_BURST = DEFAULTS.LOG_CONNECTION_LINES_PER_SECOND;

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
    const fixture = useApp({ JWT_SECRET: SECRET, LOG_LEVEL: 'info' }, { logDestination: capture });

    beforeAll(() => tokenEverywhere(fixture.running));

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

    it('logs HTTP requests by an allow-list: method, path without query, status, duration', () => {
      const requests = capture.entries().filter((entry) => entry.msg === 'request completed');
      expect(requests.map(({ req, res }) => [req, res])).toEqual(
        ['/health', '/health', '/nowhere'].map((path) => [
          {
            method: 'GET',
            path,
            // supertest sends no User-Agent; the flood test below checks it.
            remoteAddress: expect.stringContaining('127.0.0.1') as unknown,
          },
          { statusCode: path === '/nowhere' ? 404 : 200 },
        ]),
      );
      for (const entry of requests) expect(entry.durationMs).toEqual(expect.any(Number));
    });

    it('never logs a WebSocket upgrade as an HTTP request', () => {
      const paths = capture
        .entries()
        .map((entry) => (entry.req as { path?: string } | undefined)?.path);
      expect(paths.filter((path) => path?.startsWith('/ws'))).toEqual([]);
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
    const fixture = useApp({ JWT_SECRET: SECRET, LOG_LEVEL: 'warn' }, { logDestination: capture });

    beforeAll(() => tokenEverywhere(fixture.running));

    it('writes no info line: no bootstrap, request or connection line', () => {
      const entries = capture.entries();
      expect(entries.filter((entry) => !['warn', 'error', 'fatal'].includes(entry.level))).toEqual(
        [],
      );
      expect(entries.filter((entry) => entry.msg === 'connection open')).toEqual([]);
    });
  });

  describe('under a flood', () => {
    const capture = new LogCapture();
    const fixture = useApp(
      { LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000' },
      { logDestination: capture },
    );
    const count = (msg: string) => capture.entries().filter((entry) => entry.msg === msg).length;
    const sampled = () => capture.entries().filter((entry) => entry.msg === SAMPLED);

    it('logs no header value but a capped user agent: 200 requests with 14 KB headers add < 150 KB', async () => {
      // Node refuses request headers over 16 KB in all with 431: 14 KB of key, 1 KB of agent.
      const apiKey = `key-${'k'.repeat(14 * 1024)}`;
      const sessionToken = `session-${'s'.repeat(64)}`;
      const before = bytesOf(capture.lines);
      for (let i = 0; i < 200; i++) {
        const response = await request(fixture.running.server)
          .get('/health?api_key=in-the-query')
          .set('x-api-key', apiKey)
          .set('x-auth-token', sessionToken)
          .set('user-agent', 'u'.repeat(1024));
        expect(response.status).toBe(200);
      }
      const added = capture.lines.slice(before.lines);
      expect(bytesOf(added).bytes).toBeLessThan(150 * 1024);
      for (const secret of ['kkkkkkkk', sessionToken, 'in-the-query']) {
        expect(added.filter((line) => line.includes(secret))).toEqual([]);
      }
      const [entry] = capture.entries().slice(before.lines);
      expect((entry.req as { userAgent: string }).userAgent).toHaveLength(256);
    });

    it('writes no line over MAX_LOG_LINE_CHARS, whatever the path', async () => {
      const response = await request(fixture.running.server).get(`/${'p'.repeat(15 * 1024)}`);
      expect(response.status).toBe(404);
      for (const line of capture.lines) expect(line.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    });

    it('samples connection lines under churn, a summary accounting for every one held back', async () => {
      const opensBefore = count('connection open');
      const started = Date.now();
      for (let i = 0; i < CHURN; i++) {
        const client = await TestClient.open(`${fixture.running.wsUrl}/ws`);
        await client.close();
      }
      const connections = fixture.running.app.get(ConnectionRegistry);
      await waitForValue(() => connections.size, 0, 'the number of open connections');
      const windows = Math.ceil((Date.now() - started) / CONNECTION_LOG_WINDOW_MS) + 1;

      const total = (field: 'opened' | 'closed') =>
        sampled().reduce((sum, entry) => sum + (entry[field] as number), 0);
      await waitForValue(
        () => count('connection open') - opensBefore + total('opened'),
        CHURN,
        'open lines plus sampled opens',
        CONNECTION_LOG_WINDOW_MS + WAIT_MS,
      );
      const itemised = count('connection open') - opensBefore;
      expect(itemised).toBeLessThanOrEqual(CONNECTION_LOG_BURST * windows);
      await waitForValue(
        () => count('connection closed') + total('closed'),
        count('connection open') + total('opened'),
        'close lines plus sampled closes',
        CONNECTION_LOG_WINDOW_MS + WAIT_MS,
      );
    });

    it('logs refused upgrades with status and reason, rate-limited', async () => {
      const refusedBefore = count('upgrade refused');
      const sampledBefore = sampled().length;
      const started = Date.now();
      for (let i = 0; i < REFUSALS; i++) {
        expect(await refusedUpgradeStatus(`${fixture.running.wsUrl}/nope?token=secret`)).toBe(404);
      }
      const windows = Math.ceil((Date.now() - started) / CONNECTION_LOG_WINDOW_MS) + 1;
      const refusedIn = () =>
        sampled()
          .slice(sampledBefore)
          .reduce((sum, entry) => sum + ((entry.refused as Record<string, number>)['404'] ?? 0), 0);
      await waitForValue(
        () => count('upgrade refused') - refusedBefore + refusedIn(),
        REFUSALS,
        'refusal lines plus sampled refusals',
        CONNECTION_LOG_WINDOW_MS + WAIT_MS,
      );
      expect(count('upgrade refused') - refusedBefore).toBeLessThanOrEqual(
        CONNECTION_LOG_BURST * windows,
      );
      expect(capture.entries()).toContainEqual(
        expect.objectContaining({
          level: 'info',
          msg: 'upgrade refused',
          status: 404,
          reason: 'no endpoint at this path',
          path: '/nope',
        }),
      );
    });
  });
  describe('with the log limits configured', () => {
    const capture = new LogCapture();
    const fixture = useApp(
      {
        LOG_LEVEL: 'info',
        MAX_LOG_LINE_CHARS: '1024',
        MAX_LOG_FIELD_CHARS: '40',
        LOG_CONNECTION_LINES_PER_SECOND: '2',
      },
      { logDestination: capture },
    );

    it('cuts the user agent and path at MAX_LOG_FIELD_CHARS', async () => {
      const before = capture.lines.length;
      const response = await request(fixture.running.server)
        .get(`/${'p'.repeat(2000)}`)
        .set('user-agent', 'u'.repeat(500));
      expect(response.status).toBe(404);
      const access = capture
        .entries()
        .slice(before)
        .find((entry) => entry.msg === 'request completed');
      expect(access?.req).toMatchObject({ path: `/${'p'.repeat(39)}`, userAgent: 'u'.repeat(40) });
      for (const line of capture.lines) expect(line.length).toBeLessThanOrEqual(1024);
    });

    it('itemises LOG_CONNECTION_LINES_PER_SECOND connection lines per second', async () => {
      const count = () => capture.entries().filter((e) => e.msg === 'connection open').length;
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        const client = await TestClient.open(`${fixture.running.wsUrl}/ws`);
        await client.close();
      }
      const windows = Math.ceil((Date.now() - started) / CONNECTION_LOG_WINDOW_MS) + 1;
      expect(count()).toBeGreaterThan(0);
      expect(count()).toBeLessThanOrEqual(2 * windows);
      expect(count()).toBeLessThan(10);
    });
  });
});

const SAMPLED = 'connection lines sampled';
const CHURN = 300;
const REFUSALS = 100;

function bytesOf(lines: readonly string[]): { lines: number; bytes: number } {
  return { lines: lines.length, bytes: lines.reduce((sum, line) => sum + line.length + 1, 0) };
}
