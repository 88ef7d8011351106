import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import Redis from 'ioredis';
import { waitUntil } from './wait';

/**
 * Redis for the integration tests. A suite gets its Redis from REDIS_URL when set, or starts a
 * `redis-server` from PATH on a free port. With neither, it is skipped with a warning, except
 * under CI=true, where a missing Redis fails the run. The shared Redis behind REDIS_URL is never
 * stopped or flushed: suites keep apart by a unique REDIS_PREFIX each.
 */

// The test process's own settings, read in this one place (the application reads src/config).
const REDIS_URL = process.env.REDIS_URL || undefined;
const IN_CI = process.env.CI === 'true';

/** Longest wait for a redis-server to answer PING after it was started. */
const START_TIMEOUT_MS = 5000;

/** A REDIS_PREFIX no other suite or run uses, so suites sharing a Redis never see each other. */
export function uniquePrefix(): string {
  return `test:${randomUUID()}:`;
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let binaryFound: boolean | undefined;

/** Whether `redis-server` can be run from PATH. */
export function hasRedisServer(): boolean {
  binaryFound ??= spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  return binaryFound;
}

/** Resolves once Redis at `url` answers PING (polled every 25 ms); rejects after `timeoutMs`. */
export async function waitForPing(url: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 500,
    });
    client.on('error', () => undefined); // the rejection of connect() reports the same error
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      lastError = (error as Error).message;
    } finally {
      // After a failed attempt the client has ended; disconnecting it again would arm a 2 s timer.
      if (client.status !== 'end') client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Redis did not answer PING within ${timeoutMs} ms: ${lastError}`);
}

const running = new Set<ChildProcess>();
// A crashed or interrupted run must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A `redis-server` owned by one test file, on 127.0.0.1, persisting nothing. Killed by pid,
 * never by name, and restartable on the same port to simulate an outage.
 */
export class RedisServer {
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /**
   * Starts a server on `port` (default: a free one) and waits until it answers PING.
   * `extraArgs` are added to the command line (the cluster nodes of redis-cluster.ts).
   */
  static async start(port?: number, extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()), extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Pid of the running server, undefined while it is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server again on the same port (after `kill`) and waits for PING. */
  async restart(): Promise<void> {
    if (this.child) throw new Error(`redis-server on port ${this.port} is already running`);
    this.output = '';
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        tmpdir(),
        '--loglevel',
        'warning',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.child = child;
    try {
      await waitForPing(this.url);
    } catch (error) {
      await this.kill();
      throw new Error(`${(error as Error).message}\nredis-server output:\n${this.output}`);
    }
  }

  /** Freezes the server (SIGSTOP): its sockets stay open and it answers nothing, as in a partition. */
  pause(): void {
    this.signal('SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    this.signal('SIGCONT');
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`redis-server on port ${this.port} is not running`);
    process.kill(pid, signal);
  }

  /** SIGKILLs the server by pid (no clean shutdown: clients see the socket drop) and waits. */
  async kill(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid as number, 'SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis-server ${child.pid} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface RedisUnderTest {
  readonly url: string;
  /** The server this suite started, when it did (always with `ownServer`). */
  readonly server?: RedisServer;
}

export interface DescribeWithRedisOptions {
  /**
   * The suite needs a redis-server of its own, to kill and restart: REDIS_URL is not used, and
   * without the binary the suite is skipped (or fails under CI=true).
   */
  readonly ownServer?: boolean;
}

/**
 * `describe` for suites that need a real Redis. `body` receives a getter valid from its own
 * `beforeAll` on; the Redis it started (if any) is stopped after the suite's own `afterAll`.
 */
export function describeWithRedis(
  name: string,
  body: (redis: () => RedisUnderTest) => void,
  options: DescribeWithRedisOptions = {},
): void {
  const useUrl = !options.ownServer && REDIS_URL !== undefined;
  if (!useUrl && !hasRedisServer()) {
    const reason = options.ownServer
      ? '`redis-server` is not on PATH (this suite starts, kills and restarts its own)'
      : 'REDIS_URL is not set and `redis-server` is not on PATH';
    describeWithoutRedis(name, reason, () => body(unavailable));
    return;
  }

  describe(name, () => {
    let current: RedisUnderTest | undefined;
    beforeAll(async () => {
      if (useUrl) {
        await waitForPing(REDIS_URL);
        current = { url: REDIS_URL };
      } else {
        const server = await RedisServer.start();
        current = { url: server.url, server };
      }
    });
    afterAll(async () => {
      await current?.server?.kill();
    });
    describe(useUrl ? 'on REDIS_URL' : 'on a redis-server of its own', () =>
      body(() => {
        if (!current) throw new Error('Redis is not started yet: use it from beforeAll on');
        return current;
      }),
    );
  });
}

/**
 * `describe` for suites that start `redis-server` processes with options of their own (nodes of a
 * Redis Cluster) and run `redis-cli`, which comes with it: without them, skipped or failed as in
 * describeWithRedis.
 */
export function describeWithRedisServer(name: string, body: () => void): void {
  if (hasRedisServer() && hasRedisCli()) describe(name, body);
  else describeWithoutRedis(name, CLUSTER_TOOLS_MISSING, body);
}

let cliFound: boolean | undefined;

/** Whether `redis-cli` (Debian's redis-tools), which creates clusters, can be run from PATH. */
export function hasRedisCli(): boolean {
  cliFound ??= spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
  return cliFound;
}

/** Why a suite that starts its own Redis Cluster nodes cannot run. */
export const CLUSTER_TOOLS_MISSING =
  '`redis-server` and `redis-cli` are needed on PATH (this suite starts its own nodes)';

/** A suite that cannot run here: a failing test under CI=true, skipped with a warning otherwise. */
export function describeWithoutRedis(name: string, reason: string, body: () => void): void {
  if (IN_CI) {
    describe(name, () => {
      it('has a Redis to test against', () => {
        throw new Error(`CI=true and ${reason}: install redis-server or set REDIS_URL`);
      });
    });
    return;
  }
  console.warn(
    `SKIPPED "${name}": ${reason}. These Redis integration tests did NOT run; ` +
      'set REDIS_URL or install redis-server (e.g. apt-get install redis-server).',
  );
  describe.skip(name, body);
}

function unavailable(): never {
  throw new Error('No Redis in this run');
}

/** A plain client for assertions (PUBSUB, CLIENT LIST, raw PUBLISH); reconnects every 50 ms. */
export function inspector(url: string): Redis {
  const client = new Redis(url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // expected while a suite's own server is down
  return client;
}

/**
 * Number of connections subscribed to `channel` on this server, as it counts them: classic
 * subscriptions, or with `sharded` those of SSUBSCRIBE (a cluster node counts only its own).
 */
export async function subscriberCount(
  client: Redis,
  channel: string,
  sharded = false,
): Promise<number> {
  const reply = (await client.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', channel)) as [
    string,
    number | string,
  ];
  return Number(reply[1]);
}

/**
 * Resolves once `channel` has exactly `count` subscribed connections. PUBSUB is the only way to
 * know that a SUBSCRIBE sent by an app has taken effect, so this polls (every 10 ms, bounded).
 */
export async function waitForSubscribers(
  client: Redis,
  channel: string,
  count: number,
  timeoutMs = 2000,
): Promise<void> {
  await waitUntil(
    () => subscriberCount(client, channel),
    (seen) => seen === count,
    `${count} subscriber(s) on ${channel}`,
    timeoutMs,
  );
}

/** Channels with at least one subscriber under `prefix` on this server, sorted. */
export async function channelsUnder(
  client: Redis,
  prefix: string,
  sharded = false,
): Promise<string[]> {
  const listed = await client.call('PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS', `${prefix}*`);
  return (listed as string[]).map(String).sort();
}

/**
 * Names of the connections an instance holds open to this server, sorted: named
 * `switchboard-<its id>` or `switchboard-<its id>-<role>`, alone or after the component prefix
 * ioredis gives a cluster's connections (`ioredis-cluster(ssubscriber):…`). The short-lived
 * connection an ioredis Cluster opens to re-read the slots (`ioredis-cluster(refresher):…`)
 * is left out: it comes and goes every refresh interval.
 */
export async function connectionNamesOf(client: Redis, instance: string): Promise<string[]> {
  const own = `switchboard-${instance}`;
  const list = (await client.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => !name.startsWith('ioredis-cluster(refresher)'))
    .filter((name) => {
      const base = name.replace(/^ioredis-cluster\([a-z]+\):/, '');
      return base === own || base.startsWith(`${own}-`);
    })
    .sort();
}
