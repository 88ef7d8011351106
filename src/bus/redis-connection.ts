import Redis, { type RedisOptions } from 'ioredis';

/**
 * The part of an ioredis client the RedisBus uses, so unit specs can hand it a fake.
 * `status` is ioredis's: "ready" is the only state in which commands are sent.
 */
export interface RedisConnection {
  readonly status: string;
  /** Commands written and not yet answered. */
  readonly commandQueue: { readonly length: number };
  publish(channel: string, message: string): Promise<number>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  ping(): Promise<string>;
  /** Scripts of the channel history (src/history); EVALSHA first, EVAL when Redis lacks it. */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** CONFIG GET, to warn about an eviction policy that can drop history keys. */
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  /**
   * ioredis emits messageBuffer for every message, and decodes it into a string only for
   * 'message' listeners: listening to this one alone leaves the decoding to the bus.
   */
  on(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): this;
  on(event: 'ready' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  once(event: 'ready', listener: () => void): this;
}

export type RedisRole = 'publisher' | 'subscriber';

/**
 * The two connections a RedisBus works through. On one Redis they are two ioredis clients; on a
 * Redis Cluster both are views of one ioredis Cluster (redis-cluster-link.ts), which publishes
 * with SPUBLISH and subscribes with SSUBSCRIBE on one subscriber connection per shard.
 */
export interface RedisLink {
  readonly publisher: RedisConnection;
  readonly subscriber: RedisConnection;
  /**
   * Sharded pub/sub (a cluster): a topic's channel is `<prefix>{<topic>}`, in the slot of its
   * history and presence keys, and the history script publishes with SPUBLISH.
   */
  readonly sharded: boolean;
}

/** The link to one Redis at `url`: a publisher and a subscriber connection. */
export function openSingleLink(
  url: string,
  instance: string,
  connect: RedisConnector = connectIoredis,
): RedisLink {
  return {
    publisher: connect(url, redisOptions('publisher', instance)),
    subscriber: connect(url, redisOptions('subscriber', instance)),
    sharded: false,
  };
}

/** Opens one connection; the RedisBus calls it twice, once per role. */
export type RedisConnector = (url: string, options: RedisOptions) => RedisConnection;

export const connectIoredis: RedisConnector = (url, options) => new Redis(url, options);

/** Longest wait between two reconnection attempts, jitter included. */
export const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * How long a connection may wait for any byte from Redis after sending a command. The bus pings
 * every HEARTBEAT_MS, so a Redis that vanished without closing the socket (a partition, a frozen
 * host) is noticed within HEARTBEAT_MS + SOCKET_TIMEOUT_MS, 2 s; a closed socket at once. The
 * cost: a Redis that answers nothing for 1.5 s (PING normally takes microseconds) is treated as
 * gone and reconnected to.
 */
export const SOCKET_TIMEOUT_MS = 1500;

/** Interval of the PING on both connections that lets SOCKET_TIMEOUT_MS notice a silent Redis. */
export const HEARTBEAT_MS = 500;

/**
 * Exponential backoff from 50 ms, capped so that the delay plus up to 200 ms of jitter never
 * exceeds MAX_RECONNECT_DELAY_MS: a returning Redis is found again within about a second.
 * Never gives up (ioredis stops reconnecting when this returns a non-number).
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(50 * 2 ** Math.min(Math.max(attempt - 1, 0), 10), 800);
  return base + Math.floor(random() * 200);
}

/**
 * ioredis options for each of the bus's two connections. Both:
 * - fail fast instead of queueing: with enableOfflineQueue false a command issued while the
 *   connection is down is rejected at once, so nothing accumulates during an outage;
 * - reject the commands in flight when the connection drops (maxRetriesPerRequest 0) and never
 *   resend them (autoResendUnfulfilledCommands false): a PUBLISH Redis may already have handled
 *   is not sent twice, which keeps delivery at-most-once;
 * - never delay boot: the connection is opened in the background and retried forever.
 * The subscriber also lets ioredis resubscribe its channels after a reconnect
 * (autoResubscribe); the bus repairs what changed while it was down.
 */
export function redisOptions(role: RedisRole, instance: string): RedisOptions {
  return {
    // CLIENT SETNAME refuses spaces; instance ids are base64url.
    connectionName: `switchboard-${instance}-${role === 'publisher' ? 'pub' : 'sub'}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: role === 'subscriber',
    retryStrategy: (attempt) => reconnectDelay(attempt),
    connectTimeout: 2000,
    // How long disconnect() lets a socket end gracefully before destroying it (default 2 s).
    disconnectTimeout: 200,
    socketTimeout: SOCKET_TIMEOUT_MS,
    lazyConnect: false,
  };
}
