import WebSocket from 'ws';
import {
  SwitchboardClient,
  type ClientOptions,
  type ConnectionState,
  type JsonValue,
} from '../../client/src/index.js';
import { uniquePrefix } from '../support/redis';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/server-process';
import { withTimeout } from '../support/wait';

/** A client on `ws` (Node 20 has no global WebSocket) with test-sized backoff. */
export function nodeClient(url: string | string[], options: ClientOptions = {}): SwitchboardClient {
  return new SwitchboardClient(url, {
    WebSocket,
    minDelayMs: 20,
    maxDelayMs: 200,
    ...options,
  });
}

/** Resolves when `client` reaches `state`; fails after `timeoutMs`. */
export function reach(
  client: SwitchboardClient,
  state: ConnectionState,
  timeoutMs = 5000,
): Promise<void> {
  if (client.state === state) return Promise.resolve();
  let off: () => unknown = () => undefined;
  return withTimeout(
    new Promise<void>((resolve) => {
      off = client.on('state', (now) => {
        if (now === state) resolve();
      });
    }).finally(() => off()),
    timeoutMs,
    `the client to be ${state}`,
    () => off(),
  );
}

/** Polls GET /ready on `port` until it answers 200 (the instance reaches Redis); fails after 10 s. */
export async function untilReady(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`GET /ready on ${port} answered ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `done` every 5 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitUntil(done: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Two real server processes (`node dist/main.js`) on one Redis with history on, for the
 * enclosing describe: ready before its tests, killed after them.
 */
export function useTwoServerProcesses(redisUrl: () => string) {
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  beforeAll(async () => {
    ensureBuilt();
    const env = {
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: uniquePrefix(),
      RATE_LIMIT_MAX: '1000000',
      HISTORY_SIZE: '1000',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    await Promise.all([untilReady(a.port), untilReady(b.port)]);
  }, 60_000);
  afterAll(async () => {
    for (const server of [a, b]) server?.kill();
    await Promise.all([a?.exited, b?.exited]);
  });
  const started = (server: ServerProcess | undefined) => {
    if (!server) throw new Error('The server processes are not started yet');
    return server;
  };
  return {
    a: () => started(a),
    b: () => started(b),
    /** The /ws/json URL of `server`. */
    jsonUrl: (server: ServerProcess) => `ws://127.0.0.1:${server.port}/ws/json`,
  };
}

export interface Acknowledged {
  offset: number | undefined;
  message: JsonValue;
}

/**
 * Publishes `{n}` for n = 1 … total through `publisher`, each awaited (acknowledged); once
 * the subscriber has received `killAt` of them, calls `kill`. Resolves with what was
 * acknowledged, in order.
 */
export async function publishAcrossKill(options: {
  publisher: SwitchboardClient;
  channel: string;
  total: number;
  killAt: number;
  subscriberReceived: (count: number) => Promise<void>;
  kill: () => void;
}): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  for (let n = 1; n <= options.total; n++) {
    const reply = await options.publisher.publish(options.channel, { n });
    acknowledged.push({ offset: reply.offset, message: { n } });
    if (n === options.killAt) {
      // Only once the subscriber is mid-stream on the instance to kill.
      await options.subscriberReceived(n);
      options.kill();
    }
  }
  return acknowledged;
}
