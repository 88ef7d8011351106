import { backoffDelay } from '../../client/src/backoff.js';
import {
  SwitchboardCloseError,
  SwitchboardError,
  type SwitchboardClient,
} from '../../client/src/index.js';
import { withTimeout } from '../support/wait';
import { onRequests, reply, ScriptedServer, type Request } from './scripted-server';
import { nodeClient, reach } from './support';

/**
 * The connection's state machine against scripted servers: which close codes it retries, how it
 * backs off, how it notices a silent peer, and what happens to requests around a reconnect.
 */
describe('SwitchboardClient connection', () => {
  let server: ScriptedServer | undefined;
  let client: SwitchboardClient | undefined;

  afterEach(async () => {
    client?.close();
    await server?.close();
    client = server = undefined;
  });

  /** Waits until the server saw `count` connections. */
  async function connections(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while ((server?.connections ?? 0) < count) {
      if (Date.now() > deadline) throw new Error(`Only ${server?.connections} connections`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  describe('backoff', () => {
    it('waits a uniform random time up to min·2ⁿ, capped at the maximum (full jitter)', () => {
      const bounds = { minDelayMs: 500, maxDelayMs: 30_000 };
      expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, bounds, () => 0.999999))).toEqual([
        499, 999, 1999, 3999, 29_999,
      ]);
      expect(backoffDelay(5, bounds, () => 0)).toBe(0);
      expect(backoffDelay(1, bounds, () => 0.5)).toBe(500);
    });
  });

  describe.each([1001, 1011, 1012, 1013])('after close code %i', (code) => {
    it('reconnects', async () => {
      server = await ScriptedServer.start((socket, n) => {
        if (n === 1) socket.close(code, 'bye');
      });
      client = nodeClient(server.url);
      const disconnects: unknown[] = [];
      client.on('disconnect', (event) => disconnects.push(event));
      await connections(2);
      await reach(client, 'open');
      expect(disconnects).toEqual([{ code, reason: 'bye', willRetry: true }]);
    });
  });

  it('reconnects after 1006 (the socket dropped without a close frame)', async () => {
    server = await ScriptedServer.start((socket, n) => {
      if (n === 1) socket.terminate();
    });
    client = nodeClient(server.url);
    await connections(2);
    await reach(client, 'open');
  });

  describe.each([
    [1009, ''],
    [1003, 'Binary frames are not supported'],
  ])('after close code %i', (code, reason) => {
    it('surfaces the close as an error and does not reconnect', async () => {
      server = await ScriptedServer.start((socket) => socket.close(code, reason));
      client = nodeClient(server.url);
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      await reach(client, 'closed');
      expect(errors).toEqual([new SwitchboardCloseError(code, reason)]);
      expect(errors[0]).toMatchObject({ closeCode: code, reason });
      expect(server.connections).toBe(1);
    });
  });

  it('does not reconnect after 1008 without getToken', async () => {
    server = await ScriptedServer.start((socket) => socket.close(1008, 'Token invalid'));
    client = nodeClient(server.url, { token: 'bad' });
    await reach(client, 'closed');
    expect(server.connections).toBe(1);
  });

  it('reconnects after 1008 when getToken yields another token, with that token', async () => {
    const tokens: string[] = [];
    server = await ScriptedServer.start((socket, n) => {
      if (n === 1) socket.close(1008, 'Token expired');
    });
    server.onUpgrade = (url) => tokens.push(new URL(url, 'ws://x').searchParams.get('token') ?? '');
    let issued = 0;
    client = nodeClient(server.url, { getToken: () => `token-${++issued}` });
    await connections(2);
    await reach(client, 'open');
    // Asked at the first connect, after the refusal, and at the reconnect itself.
    expect(tokens).toEqual(['token-1', 'token-3']);
  });

  it('answers the server heartbeat ping with a pong', async () => {
    server = await ScriptedServer.start((socket) => reply(socket, 'ping', {}));
    client = nodeClient(server.url);
    expect(await server.frame(1, (f) => (f as Request).type === 'pong')).toEqual({ type: 'pong' });
  });

  it('treats two heartbeat intervals of silence as a dead connection and reconnects', async () => {
    server = await ScriptedServer.start(() => undefined);
    client = nodeClient(server.url, { heartbeatIntervalMs: 50 });
    const disconnects: { reason: string }[] = [];
    client.on('disconnect', (event) => disconnects.push(event));
    await reach(client, 'open');
    const opened = Date.now();
    await connections(2);
    // Two intervals after the open, not before (timers may fire a millisecond early).
    expect(Date.now() - opened).toBeGreaterThanOrEqual(98);
    expect(disconnects[0]).toMatchObject({ reason: 'Heartbeat timeout', willRetry: true });
  });

  it('keeps a connection that hears heartbeats', async () => {
    server = await ScriptedServer.start((socket) => {
      const timer = setInterval(() => reply(socket, 'ping', {}), 20);
      socket.on('close', () => clearInterval(timer));
    });
    client = nodeClient(server.url, { heartbeatIntervalMs: 50 });
    await reach(client, 'open');
    await server.frame(1, (f) => (f as Request).type === 'pong');
    // Five pings later (100 ms, two intervals), still the first connection.
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () =>
          (server?.received[0].length ?? 0) >= 5 ? resolve() : setTimeout(check, 5);
        check();
      }),
      2000,
      'five pongs',
    );
    expect(server.connections).toBe(1);
  });

  it('refuses an empty URL list at once, and stops when the WebSocket refuses the URL', async () => {
    expect(() => nodeClient([])).toThrow('No URL to connect to');
    client = nodeClient('ftp://127.0.0.1/ws/json');
    // Refused in the constructor's first attempt, before a listener could be added.
    expect(client.state).toBe('closed');
    await expect(client.ping()).rejects.toMatchObject({ code: 'closed' });
  });

  describe('requests', () => {
    it('resolves with the reply carrying its id, and rejects with the server error', async () => {
      server = await ScriptedServer.start((socket) =>
        onRequests(socket, (request) => {
          if (request.payload.channel === 'bad')
            reply(
              socket,
              'error',
              {
                message: 'Validation failed',
                errors: [{ field: 'payload.channel', message: 'no' }],
              },
              request.id,
            );
          else reply(socket, 'published', { channel: 'news', epoch: 'e', offset: 7 }, request.id);
        }),
      );
      client = nodeClient(server.url);
      await expect(client.publish('news', 1)).resolves.toEqual({
        channel: 'news',
        epoch: 'e',
        offset: 7,
      });
      const failure = client.publish('bad', 1);
      await expect(failure).rejects.toBeInstanceOf(SwitchboardError);
      await expect(failure).rejects.toMatchObject({
        code: 'server',
        message: 'Validation failed',
        errors: [{ field: 'payload.channel', message: 'no' }],
      });
    });

    it('rejects with timeout when no reply comes in time', async () => {
      server = await ScriptedServer.start(() => undefined);
      client = nodeClient(server.url, { requestTimeoutMs: 50 });
      await expect(client.ping()).rejects.toMatchObject({ code: 'timeout' });
    });

    it('queues requests made while reconnecting and sends them on the next open, up to maxQueued', async () => {
      server = await ScriptedServer.start((socket, n) => {
        if (n === 1) socket.close(1013, 'Slow consumer');
        else onRequests(socket, (request) => reply(socket, 'pong', {}, request.id));
      });
      client = nodeClient(server.url, { maxQueued: 2, minDelayMs: 200, random: () => 1 });
      await reach(client, 'reconnecting');
      const queued = [client.ping(), client.ping()];
      await expect(client.ping()).rejects.toMatchObject({ code: 'queue-full' });
      await expect(Promise.all(queued)).resolves.toEqual([{}, {}]);
      expect(server.connections).toBe(2);
    });

    it('rejects a request in flight when the socket drops (it is never resent)', async () => {
      server = await ScriptedServer.start((socket, n) =>
        onRequests(socket, () => (n === 1 ? socket.terminate() : undefined)),
      );
      client = nodeClient(server.url);
      await reach(client, 'open');
      await expect(client.ping()).rejects.toMatchObject({ code: 'disconnected' });
      await reach(client, 'open');
      expect(server.received[1] ?? []).toEqual([]);
    });

    it('rejects everything with closed once closed', async () => {
      server = await ScriptedServer.start(() => undefined);
      client = nodeClient(server.url);
      const pending = client.ping();
      client.close();
      await expect(pending).rejects.toMatchObject({ code: 'closed' });
      await expect(client.ping()).rejects.toMatchObject({ code: 'closed' });
    });
  });
});
