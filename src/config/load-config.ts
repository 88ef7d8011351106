import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { AppConfig } from './app-config';
import { DEVELOPMENT_JWT_SECRET } from './development-secret';
import { EnvironmentVariables, SECRET_VARIABLES } from './environment';
import { parseApiKeys } from './api-keys';
import { parseRedisTarget } from './redis-target';
import { MIN_PRODUCTION_SECRET_BYTES, PUBLISHED_JWT_SECRETS } from './published-secrets';

export type Environment = Readonly<Record<string, string | undefined>>;

export { DEVELOPMENT_JWT_SECRET };

/** Thrown when the environment is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `env` and returns the typed configuration, or throws a ConfigError naming every
 * invalid variable. Unset, empty and blank variables take their defaults.
 */
export function loadConfig(env: Environment): AppConfig {
  const present: Record<string, string> = {};
  for (const key of Object.keys(new EnvironmentVariables())) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, present);
  const problems = validateSync(vars, { stopAtFirstError: true }).map((e) => describe(e, present));
  if (vars.NODE_ENV === 'production') problems.push(...productionSecretProblems(vars.JWT_SECRET));
  const redis = parseRedisTarget(vars.REDIS_URL, vars.REDIS_CLUSTER_NODES, vars.REDIS_PREFIX);
  if (redis.problems) problems.push(...redis.problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return AppConfig.of({
    nodeEnv: vars.NODE_ENV,
    port: vars.PORT,
    host: vars.HOST,
    maxMessageBytes: vars.MAX_MESSAGE_BYTES,
    jwt: {
      secret: vars.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      usingDevelopmentSecret: vars.JWT_SECRET === undefined,
      issuer: vars.JWT_ISSUER,
      audience: vars.JWT_AUDIENCE,
    },
    authRequired: vars.AUTH_REQUIRED,
    heartbeatIntervalMs: vars.HEARTBEAT_INTERVAL_MS,
    rateLimit: { max: vars.RATE_LIMIT_MAX, windowMs: vars.RATE_LIMIT_WINDOW_MS },
    redis: { target: redis.target, prefix: vars.REDIS_PREFIX, busSecret: vars.BUS_SECRET },
    history: { size: vars.HISTORY_SIZE, ttlMs: vars.HISTORY_TTL_SECONDS * 1000 },
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    logLevel: vars.LOG_LEVEL,
    allowedOrigins: vars.ALLOWED_ORIGINS?.split(',').map((origin) => origin.trim().toLowerCase()),
    maxConnections: vars.MAX_CONNECTIONS,
    maxBufferedBytes: vars.MAX_BUFFERED_BYTES,
    connectRate: {
      limit: vars.CONNECT_RATE_LIMIT,
      windowMs: vars.CONNECT_RATE_WINDOW_MS,
      storageTimeoutMs: vars.CONNECT_RATE_STORAGE_TIMEOUT_MS,
    },
    maxConnectionsPerIp: vars.MAX_CONNECTIONS_PER_IP,
    trustProxy: vars.TRUST_PROXY,
    httpHeadersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS,
    maxPendingSockets: vars.MAX_PENDING_SOCKETS,
    maxPendingFrames: vars.MAX_PENDING_FRAMES,
    maxSubscriptions: vars.MAX_SUBSCRIPTIONS,
    payloadBounds: { maxDepth: vars.MAX_PAYLOAD_DEPTH, maxEntries: vars.MAX_PAYLOAD_ENTRIES },
    logLimits: {
      maxLineChars: vars.MAX_LOG_LINE_CHARS,
      maxFieldChars: vars.MAX_LOG_FIELD_CHARS,
      connectionLinesPerSecond: vars.LOG_CONNECTION_LINES_PER_SECOND,
    },
    maxPendingPublishes: vars.MAX_PENDING_PUBLISHES,
    slowConsumerGraceMs: vars.SLOW_CONSUMER_GRACE_MS,
    presence: { diffMs: vars.PRESENCE_DIFF_MS, ttlSeconds: vars.PRESENCE_TTL_SECONDS },
    api: { keys: parseApiKeys(vars.API_KEYS), rateLimitPerMinute: vars.API_RATE_LIMIT },
  });
}

/** Reads the process environment: the one place in the application that does. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}

/** Why `secret` may not sign production tokens; never quotes the value. */
function productionSecretProblems(secret: string | undefined): string[] {
  if (secret === undefined) return ['JWT_SECRET: must be set when NODE_ENV=production'];
  if (PUBLISHED_JWT_SECRETS.has(secret)) {
    return ['JWT_SECRET: must not be a secret published in the Switchboard repository'];
  }
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_PRODUCTION_SECRET_BYTES) {
    return [
      `JWT_SECRET: must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes when ` +
        `NODE_ENV=production (got ${bytes}); e.g. openssl rand -base64 48`,
    ];
  }
  return [];
}

function describe(error: ValidationError, raw: Record<string, string>): string {
  const rules = Object.values(error.constraints ?? {}).join('; ');
  const value = SECRET_VARIABLES.has(error.property)
    ? '(value hidden)'
    : `(got ${JSON.stringify(raw[error.property])})`;
  return `${error.property}: ${rules} ${value}`;
}
