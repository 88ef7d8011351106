import type { ApiKey } from './api-keys';
import type { LogLevelName, NodeEnv } from './environment';
import type { RedisTarget } from './redis-target';

/**
 * The validated, typed configuration. Built once at boot by `loadConfig`; every other part of
 * the application receives it by injection and never reads the environment itself.
 * Each field documents the variable it comes from in environment.ts.
 */
export class AppConfig {
  readonly nodeEnv!: NodeEnv;
  readonly port!: number;
  readonly host!: string;
  readonly maxMessageBytes!: number;
  readonly jwt!: {
    readonly secret: string;
    /** True when JWT_SECRET was unset outside production and a development secret is used. */
    readonly usingDevelopmentSecret: boolean;
    readonly issuer?: string;
    readonly audience?: string;
  };
  readonly authRequired!: boolean;
  readonly heartbeatIntervalMs!: number;
  readonly rateLimit!: { readonly max: number; readonly windowMs: number };
  readonly redis!: {
    /** REDIS_URL or REDIS_CLUSTER_NODES; undefined: the in-memory bus of one process. */
    readonly target?: RedisTarget;
    readonly prefix: string;
    /** BUS_SECRET; undefined leaves bus frames unsigned. */
    readonly busSecret?: string;
  };
  /** HISTORY_SIZE (0: off) and HISTORY_TTL_SECONDS, in milliseconds. */
  readonly history!: { readonly size: number; readonly ttlMs: number };
  readonly shutdownTimeoutMs!: number;
  readonly logLevel!: LogLevelName;
  /** Undefined when ALLOWED_ORIGINS is unset: any origin may connect. */
  readonly allowedOrigins?: readonly string[];
  /** Undefined when MAX_CONNECTIONS is unset: no limit. */
  readonly maxConnections?: number;
  readonly maxBufferedBytes!: number;
  /** Per-IP upgrade rate (CONNECT_RATE_*); `limit` 0 means off. */
  readonly connectRate!: {
    readonly limit: number;
    readonly windowMs: number;
    /** CONNECT_RATE_STORAGE_TIMEOUT_MS. */
    readonly storageTimeoutMs: number;
  };
  /** MAX_CONNECTIONS_PER_IP; 0 means no limit. */
  readonly maxConnectionsPerIp!: number;
  readonly trustProxy!: boolean;
  readonly httpHeadersTimeoutMs!: number;
  readonly maxPendingSockets!: number;
  /** MAX_PENDING_FRAMES: frames held per connection while one of its handlers is in flight. */
  readonly maxPendingFrames!: number;
  /** MAX_SUBSCRIPTIONS: channels per /ws/json connection. */
  readonly maxSubscriptions!: number;
  /** MAX_PAYLOAD_DEPTH and MAX_PAYLOAD_ENTRIES: the shape of a payload or bus message. */
  readonly payloadBounds!: { readonly maxDepth: number; readonly maxEntries: number };
  /** MAX_LOG_LINE_CHARS, MAX_LOG_FIELD_CHARS and LOG_CONNECTION_LINES_PER_SECOND. */
  readonly logLimits!: {
    readonly maxLineChars: number;
    readonly maxFieldChars: number;
    readonly connectionLinesPerSecond: number;
  };
  /** MAX_PENDING_PUBLISHES: Redis bus publishes unanswered before publishes are dropped. */
  readonly maxPendingPublishes!: number;
  /** SLOW_CONSUMER_GRACE_MS: time a shed slow consumer gets to close before it is terminated. */
  readonly slowConsumerGraceMs!: number;
  /** PRESENCE_DIFF_MS and PRESENCE_TTL_SECONDS. */
  readonly presence!: { readonly diffMs: number; readonly ttlSeconds: number };
  /** API_KEYS (empty: the HTTP API is off) and API_RATE_LIMIT per key per minute. */
  readonly api!: { readonly keys: readonly ApiKey[]; readonly rateLimitPerMinute: number };

  static of(values: AppConfigValues): AppConfig {
    return Object.freeze(Object.assign(new AppConfig(), values));
  }
}

export type AppConfigValues = { -readonly [K in keyof AppConfig]: AppConfig[K] };
