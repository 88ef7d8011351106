import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig, type Environment } from './load-config';
import { PUBLISHED_JWT_SECRETS } from './published-secrets';

/** 32 bytes exactly: the shortest secret production accepts. */
const STRONG_SECRET = 'k'.repeat(32);

/** The ConfigError `loadConfig(env)` throws; fails the test if it does not throw one. */
function configErrorOf(env: Environment): ConfigError {
  try {
    // NODE_ENV defaults to production, which also requires JWT_SECRET: tests name it when needed.
    loadConfig({ NODE_ENV: 'test', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The variables a ConfigError names, read from its problems ("NAME: rule (got …)"). */
function namedVariables(error: ConfigError): string[] {
  return error.problems.map((problem) => problem.slice(0, problem.indexOf(':'))).sort();
}

describe('loadConfig', () => {
  it('runs as production when NODE_ENV is unset', () => {
    expect(loadConfig({ JWT_SECRET: STRONG_SECRET }).nodeEnv).toBe('production');
    expect(() => loadConfig({})).toThrow(/JWT_SECRET: must be set when NODE_ENV=production/);
  });

  it('applies the documented defaults outside production', () => {
    expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      host: '0.0.0.0',
      maxMessageBytes: 65536,
      authRequired: false,
      heartbeatIntervalMs: 30000,
      rateLimit: { max: 10, windowMs: 1000 },
      redis: { target: undefined, prefix: 'switchboard:' },
      history: { size: 100, ttlMs: 300_000 },
      shutdownTimeoutMs: 10000,
      logLevel: 'info',
      allowedOrigins: undefined,
      maxConnections: undefined,
      maxBufferedBytes: 1024 * 1024,
      jwt: { secret: DEVELOPMENT_JWT_SECRET, usingDevelopmentSecret: true },
    });
  });

  it('treats an empty string as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '',
      MAX_MESSAGE_BYTES: '',
      AUTH_REQUIRED: '',
      LOG_LEVEL: '',
      NODE_ENV: '',
      JWT_SECRET: STRONG_SECRET,
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      port: 3000,
      host: '0.0.0.0',
      maxMessageBytes: 65536,
      authRequired: false,
      logLevel: 'info',
    });
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: '' }).jwt.usingDevelopmentSecret).toBe(true);
  });

  it('parses numbers', () => {
    expect(loadConfig({ NODE_ENV: 'test', PORT: '8080', MAX_MESSAGE_BYTES: '100' })).toMatchObject({
      port: 8080,
      maxMessageBytes: 100,
    });
    expect(loadConfig({ NODE_ENV: 'test', PORT: '0' }).port).toBe(0);
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', SOMETHING_ELSE: 'x' })).not.toThrow();
  });

  describe('invalid values', () => {
    it('throws a ConfigError naming PORT for PORT=abc', () => {
      const error = configErrorOf({ PORT: 'abc' });
      expect(error).toBeInstanceOf(ConfigError);
      expect(namedVariables(error)).toEqual(['PORT']);
      expect(error.message).toMatch(/\bPORT\b/);
    });

    it.each(['-1', '65536', '3.5', '80abc'])('refuses PORT=%j', (port) => {
      expect(namedVariables(configErrorOf({ PORT: port }))).toEqual(['PORT']);
    });

    it('takes HISTORY_SIZE=0 (history off) and a TTL in seconds', () => {
      expect(
        loadConfig({ NODE_ENV: 'test', HISTORY_SIZE: '0', HISTORY_TTL_SECONDS: '60' }).history,
      ).toEqual({
        size: 0,
        ttlMs: 60_000,
      });
    });

    it.each([
      ['HISTORY_SIZE', '-1'],
      ['HISTORY_SIZE', '100001'],
      ['HISTORY_SIZE', 'many'],
      ['HISTORY_TTL_SECONDS', '0'],
      ['HISTORY_TTL_SECONDS', '2.5'],
      ['HISTORY_TTL_SECONDS', '2592001'],
    ])('refuses %s=%j', (name, value) => {
      expect(namedVariables(configErrorOf({ [name]: value }))).toEqual([name]);
    });

    it.each(['0', '-5', 'lots'])('refuses MAX_MESSAGE_BYTES=%j', (bytes) => {
      expect(namedVariables(configErrorOf({ MAX_MESSAGE_BYTES: bytes }))).toEqual([
        'MAX_MESSAGE_BYTES',
      ]);
    });

    it('names every bad variable in one error', () => {
      const error = configErrorOf({ PORT: 'abc', MAX_MESSAGE_BYTES: '0', LOG_LEVEL: 'loud' });
      expect(namedVariables(error)).toEqual(['LOG_LEVEL', 'MAX_MESSAGE_BYTES', 'PORT']);
      for (const name of ['PORT', 'MAX_MESSAGE_BYTES', 'LOG_LEVEL']) {
        expect(error.message).toContain(name);
      }
    });
  });

  describe('AUTH_REQUIRED', () => {
    it.each(['true', 'TRUE', '1', 'yes', ' Yes '])('reads %j as true', (value) => {
      expect(loadConfig({ NODE_ENV: 'test', AUTH_REQUIRED: value }).authRequired).toBe(true);
    });

    it.each(['false', 'False', '0', 'no'])('reads %j as false', (value) => {
      expect(loadConfig({ NODE_ENV: 'test', AUTH_REQUIRED: value }).authRequired).toBe(false);
    });

    it.each(['maybe', '2', 'on'])('refuses %j, naming AUTH_REQUIRED', (value) => {
      expect(namedVariables(configErrorOf({ AUTH_REQUIRED: value }))).toEqual(['AUTH_REQUIRED']);
    });
  });

  describe('JWT_SECRET', () => {
    it('uses the given secret', () => {
      expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 's3cret' }).jwt).toMatchObject({
        secret: 's3cret',
        usingDevelopmentSecret: false,
      });
    });

    it.each([{}, { JWT_SECRET: '' }])(
      'is required with NODE_ENV=production: %j throws naming JWT_SECRET',
      (secret) => {
        const error = configErrorOf({ NODE_ENV: 'production', ...secret });
        expect(namedVariables(error)).toEqual(['JWT_SECRET']);
        expect(error.message).toMatch(/\bJWT_SECRET\b/);
      },
    );

    it('starts in production with a secret of 32 bytes or more', () => {
      const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG_SECRET });
      expect(config.nodeEnv).toBe('production');
      expect(config.jwt).toMatchObject({ secret: STRONG_SECRET, usingDevelopmentSecret: false });
    });

    it.each(['a', 'prod-secret', 'k'.repeat(31), 'é'.repeat(15)])(
      'refuses %j (under 32 bytes) in production, naming JWT_SECRET',
      (secret) => {
        const error = configErrorOf({ NODE_ENV: 'production', JWT_SECRET: secret });
        expect(namedVariables(error)).toEqual(['JWT_SECRET']);
        expect(error.message).toMatch(/JWT_SECRET: must be at least 32 bytes/);
      },
    );

    it.each([...PUBLISHED_JWT_SECRETS])(
      'refuses %j, published in this repository, in production',
      (secret) => {
        const error = configErrorOf({ NODE_ENV: 'production', JWT_SECRET: secret });
        expect(namedVariables(error)).toEqual(['JWT_SECRET']);
        expect(error.message).toMatch(/JWT_SECRET: must not be a secret published/);
        expect(error.message).not.toContain(secret);
      },
    );

    it('accepts short secrets outside production (tests and development)', () => {
      expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'a' }).jwt.secret).toBe('a');
    });

    it('never appears in an error message, whatever else is wrong', () => {
      const secret = 'jwt-value-that-must-not-leak';
      const error = configErrorOf({
        JWT_SECRET: secret,
        PORT: 'abc',
        NODE_ENV: 'staging',
        REDIS_URL: 'http://user:redis-password-that-must-not-leak@host',
      });
      expect(namedVariables(error)).toEqual(['NODE_ENV', 'PORT', 'REDIS_URL']);
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain('redis-password-that-must-not-leak');
      expect(error.problems.join('\n')).not.toContain(secret);
    });
  });

  describe('BUS_SECRET', () => {
    it('is optional, and handed to the bus when set', () => {
      expect(loadConfig({ NODE_ENV: 'test' }).redis.busSecret).toBeUndefined();
      const secret = 'b'.repeat(32);
      expect(loadConfig({ NODE_ENV: 'test', BUS_SECRET: secret }).redis.busSecret).toBe(secret);
    });

    it('is refused under 32 characters, without its value in the error', () => {
      const error = configErrorOf({ BUS_SECRET: 'short-bus-secret-must-not-leak' });
      expect(namedVariables(error)).toEqual(['BUS_SECRET']);
      expect(error.message).not.toContain('short-bus-secret-must-not-leak');
      expect(error.message).toContain('(value hidden)');
    });
  });
});
