import 'reflect-metadata'; // class-transformer's @Type reads design metadata
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;

/** One API key: a name (the id rule's characters), a secret of 16+ characters, an optional scope. */
const API_KEY = String.raw`\s*[\w.@+-]{1,64}:[^,:\s]{16,}(?::(?:publish|read|admin))?\s*`;
const API_KEYS_PATTERN = new RegExp(`^${API_KEY}(?:,${API_KEY})*$`);

/**
 * Reads a plain decimal integer ("3000"); anything else ("abc", "0x50", "1e3", "3.5") stays a
 * string and fails @IsInt, so a typo never turns into a surprising number.
 */
const ToInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value,
  );

/** Reads "true"/"false"/"1"/"0"/"yes"/"no"; anything else stays a string and fails validation. */
const ToBoolean = () =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const normalized = value.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(normalized)) return true;
    if (['false', '0', 'no'].includes(normalized)) return false;
    return value;
  });

/**
 * Every environment variable Switchboard reads, with its default and its rule. `.env.example`
 * and the README's table document the same list (a test keeps them in step). Unset and empty
 * variables take the default written here.
 */
export class EnvironmentVariables {
  /**
   * `production` requires a strong JWT_SECRET and hides /auth/dev-token. The default, so that a
   * deployment that forgets it is safe; `npm run start:dev` and the tests set another one.
   */
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'production';

  /** HTTP and WebSocket port (one server). 0 picks a free port. */
  @ToInteger()
  @Min(0)
  @Max(65535)
  @IsInt()
  PORT = 3000;

  /** Interface to listen on. */
  @IsString()
  @IsNotEmpty()
  HOST = '0.0.0.0';

  /** Largest accepted frame in bytes; a larger frame closes the socket with 1009. */
  @ToInteger()
  @Min(1)
  @Max(64 * MiB)
  @IsInt()
  MAX_MESSAGE_BYTES = 65536;

  /** HS256 secret for access tokens. Required in production; development uses a fixed dev secret. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  JWT_SECRET?: string;

  /** When set, tokens must carry this `iss`. */
  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  /** When set, tokens must carry this `aud`. */
  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  /** When true, every WebSocket endpoint requires a valid token. */
  @ToBoolean()
  @IsBoolean()
  AUTH_REQUIRED = false;

  /** Protocol ping interval; a peer that has not answered a ping by the next one is terminated. */
  @ToInteger()
  @Min(10)
  @Max(3_600_000)
  @IsInt()
  HEARTBEAT_INTERVAL_MS = 30000;

  /**
   * Messages allowed per connection per window: @nestjs/throttler's `default` throttler, which
   * also limits HTTP requests per client IP and route.
   */
  @ToInteger()
  @Min(1)
  @Max(1_000_000_000)
  @IsInt()
  RATE_LIMIT_MAX = 10;

  /** Rate-limit window length, starting at a connection's first message of the window. */
  @ToInteger()
  @Min(1)
  @Max(3_600_000)
  @IsInt()
  RATE_LIMIT_WINDOW_MS = 1000;

  /** Redis URL; when set, instances share one bus through Redis pub/sub. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /**
   * Comma-separated seeds of a Redis Cluster (`host:port`, or `redis://[user:pass@]host:port` /
   * `rediss://…` URLs carrying credentials and TLS); when set, instances share the cluster, with
   * sharded pub/sub. Exclusive with REDIS_URL. Checked in load-config.ts (parseRedisTarget).
   */
  @IsOptional()
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /**
   * Shared secret of the instances: with it, every bus frame carries an HMAC-SHA256 and frames
   * without a valid one are refused. At least 32 characters.
   */
  @IsOptional()
  @IsString()
  @MinLength(32)
  BUS_SECRET?: string;

  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  @IsString()
  @IsNotEmpty()
  REDIS_PREFIX = 'switchboard:';

  /**
   * Publications kept per channel for recovery (`subscribe` with `since`) and live gap repair.
   * 0 turns history, positions and recovery off: channels are then at-most-once, as rooms are.
   */
  @ToInteger()
  @Min(0)
  @Max(100_000)
  @IsInt()
  HISTORY_SIZE = 100;

  /** A channel's history (and its position) expires this long after its last publication. */
  @ToInteger()
  @Min(1)
  @Max(30 * 24 * 3600)
  @IsInt()
  HISTORY_TTL_SECONDS = 300;

  /** How long shutdown waits for sockets to close before exiting anyway. */
  @ToInteger()
  @Min(0)
  @Max(600_000)
  @IsInt()
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** Log level of the structured JSON logs. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'info';

  /** Comma-separated browser origins allowed to connect; unset allows any. */
  @IsOptional()
  @Matches(/^\s*[a-z][a-z0-9+.-]*:\/\/[^\s,/]+\s*(,\s*[a-z][a-z0-9+.-]*:\/\/[^\s,/]+\s*)*$/i, {
    message: 'ALLOWED_ORIGINS must be a comma-separated list of origins like https://example.com',
  })
  ALLOWED_ORIGINS?: string;

  /** Open connections allowed per instance; unset means unlimited. */
  @IsOptional()
  @ToInteger()
  @Min(1)
  @IsInt()
  MAX_CONNECTIONS?: number;

  /**
   * WebSocket upgrades allowed per client IP per CONNECT_RATE_WINDOW_MS, across every instance
   * sharing REDIS_URL; past it an upgrade gets 429. 0 turns the limit off.
   */
  @ToInteger()
  @Min(0)
  @Max(1_000_000_000)
  @IsInt()
  CONNECT_RATE_LIMIT = 0;

  /** Window of CONNECT_RATE_LIMIT. */
  @ToInteger()
  @Min(1)
  @Max(86_400_000)
  @IsInt()
  CONNECT_RATE_WINDOW_MS = 10000;

  /** Open WebSocket sockets allowed per client IP on one instance; past it 429. 0: no limit. */
  @ToInteger()
  @Min(0)
  @Max(1_000_000_000)
  @IsInt()
  MAX_CONNECTIONS_PER_IP = 0;

  /**
   * When true the client IP is the first X-Forwarded-For hop (set it only behind a proxy that
   * overwrites that header); otherwise the socket's address.
   */
  @ToBoolean()
  @IsBoolean()
  TRUST_PROXY = false;

  /** A socket that has not sent a complete request head within this many ms is closed. */
  @ToInteger()
  @Min(100)
  @Max(600_000)
  @IsInt()
  HTTP_HEADERS_TIMEOUT_MS = 10000;

  /**
   * Sockets allowed at once that are not (yet) WebSockets: HTTP requests, keep-alive and
   * handshakes in progress. Past it a new socket is closed at once, before it costs more.
   */
  @ToInteger()
  @Min(1)
  @Max(1_000_000)
  @IsInt()
  MAX_PENDING_SOCKETS = 512;

  /** A socket whose unsent data exceeds this many bytes is closed as a slow consumer. */
  @ToInteger()
  @Min(1024)
  @Max(1024 * MiB)
  @IsInt()
  MAX_BUFFERED_BYTES = MiB;

  /**
   * Frames one connection may have waiting while a handler of its own is in flight; past it the
   * socket stops being read until half of them are handled (TCP backpressure, nothing dropped).
   */
  @ToInteger()
  @Min(2)
  @Max(100_000)
  @IsInt()
  MAX_PENDING_FRAMES = 64;

  /** Channels one /ws/json connection may be subscribed to at once; past it `subscribe` fails. */
  @ToInteger()
  @Min(1)
  @Max(100_000)
  @IsInt()
  MAX_SUBSCRIPTIONS = 100;

  /**
   * Deepest nesting of objects and arrays in a /ws/json payload (the payload itself is level 1)
   * and in a bus message; deeper is refused before any validator walks it.
   */
  @ToInteger()
  @Min(1)
  @Max(1000)
  @IsInt()
  MAX_PAYLOAD_DEPTH = 32;

  /** Object keys plus array elements in one /ws/json payload or bus message, over the whole of it. */
  @ToInteger()
  @Min(1)
  @Max(10_000_000)
  @IsInt()
  MAX_PAYLOAD_ENTRIES = 10_000;

  /** Longest JSON log line written; a longer one has its long values replaced (`"truncated":true`). */
  @ToInteger()
  @Min(1024)
  @Max(1_048_576)
  @IsInt()
  MAX_LOG_LINE_CHARS = 8192;

  /** Longest user agent and request path an access or "upgrade refused" line keeps; the rest is cut. */
  @ToInteger()
  @Min(16)
  @Max(65_536)
  @IsInt()
  MAX_LOG_FIELD_CHARS = 256;

  /**
   * Connection lines (open and close together), and refusal lines, written in full per second;
   * past it they are counted in one "connection lines sampled" line per second.
   */
  @ToInteger()
  @Min(1)
  @Max(100_000)
  @IsInt()
  LOG_CONNECTION_LINES_PER_SECOND = 20;

  /** How long an upgrade waits for the CONNECT_RATE_LIMIT storage (Redis) before it is let through. */
  @ToInteger()
  @Min(10)
  @Max(10_000)
  @IsInt()
  CONNECT_RATE_STORAGE_TIMEOUT_MS = 250;

  /** Redis bus publishes waiting for an answer; past it publishes are dropped until Redis catches up. */
  @ToInteger()
  @Min(100)
  @Max(10_000_000)
  @IsInt()
  MAX_PENDING_PUBLISHES = 10_000;

  /** How long a slow consumer gets to complete its 1013 close before it is terminated. */
  @ToInteger()
  @Min(10)
  @Max(60_000)
  @IsInt()
  SLOW_CONSUMER_GRACE_MS = 1000;

  /** A channel's presence_diff frames go out at most once per this many ms, batched. */
  @ToInteger()
  @Min(10)
  @Max(60_000)
  @IsInt()
  PRESENCE_DIFF_MS = 200;

  /** Members of an instance that died (SIGKILL) leave presence within this many seconds. */
  @ToInteger()
  @Min(1)
  @Max(3600)
  @IsInt()
  PRESENCE_TTL_SECONDS = 30;

  /**
   * Keys of the HTTP API (/api), comma-separated `name:secret` or `name:secret:scope`, scope
   * `publish`, `read` or `admin` (the default). Unset: every /api route answers 404.
   */
  @IsOptional()
  @Matches(API_KEYS_PATTERN, {
    message: 'API_KEYS must be comma-separated name:secret or name:secret:(publish|read|admin)',
  })
  API_KEYS?: string;

  /** Requests per minute allowed to each API key (counted on Redis when REDIS_URL is set). */
  @ToInteger()
  @Min(1)
  @Max(1_000_000_000)
  @IsInt()
  API_RATE_LIMIT = 600;
}

/** Variables whose values are never echoed, not even in a validation error. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'JWT_SECRET',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'BUS_SECRET',
  'API_KEYS',
]);
