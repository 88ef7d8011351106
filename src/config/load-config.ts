import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { AppConfig } from './app-config';
import { EnvironmentVariables, SECRET_VARIABLES } from './environment';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The secret used when JWT_SECRET is unset outside production. Public by design: tokens signed
 * with it are worthless anywhere else, and production refuses to start without a real secret.
 */
export const DEVELOPMENT_JWT_SECRET = 'switchboard-development-secret-do-not-use-in-production';

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
  if (vars.NODE_ENV === 'production' && vars.JWT_SECRET === undefined) {
    problems.push('JWT_SECRET: must be set when NODE_ENV=production');
  }
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
    redis: { url: vars.REDIS_URL, prefix: vars.REDIS_PREFIX, busSecret: vars.BUS_SECRET },
    history: { size: vars.HISTORY_SIZE, ttlMs: vars.HISTORY_TTL_SECONDS * 1000 },
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    logLevel: vars.LOG_LEVEL,
    allowedOrigins: vars.ALLOWED_ORIGINS?.split(',').map((origin) => origin.trim().toLowerCase()),
    maxConnections: vars.MAX_CONNECTIONS,
    maxBufferedBytes: vars.MAX_BUFFERED_BYTES,
  });
}

/** Reads the process environment: the one place in the application that does. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}

function describe(error: ValidationError, raw: Record<string, string>): string {
  const rules = Object.values(error.constraints ?? {}).join('; ');
  const value = SECRET_VARIABLES.has(error.property)
    ? '(value hidden)'
    : `(got ${JSON.stringify(raw[error.property])})`;
  return `${error.property}: ${rules} ${value}`;
}
