import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISHED_JWT_SECRETS } from '../src/config/published-secrets';
import { startServerProcess, type ServerProcess } from './support/server-process';
import { withTimeout } from './support/wait';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const EXIT_WAIT_MS = 10_000;

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
  readonly stdout: string;
}

/**
 * Runs the built server with exactly `env` (nothing inherited, so the result does not depend on
 * the machine) and resolves when it exits. A process still running after EXIT_WAIT_MS is killed
 * and fails the test: with a bad configuration it must never start listening.
 */
async function runMain(env: Record<string, string>): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr, stdout }));
  });
  try {
    return await withTimeout(exited, EXIT_WAIT_MS, `${MAIN} to exit`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('node dist/main.js with an invalid environment', () => {
  beforeAll(() => {
    // CI builds before testing; a fresh checkout run locally builds here once.
    if (existsSync(MAIN)) return;
    const build = spawnSync('npx', ['nest', 'build', '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (build.status !== 0) {
      throw new Error(`nest build failed (${build.status}): ${build.stderr}${build.stdout}`);
    }
  }, 130_000);

  it('exits non-zero on PORT=abc and names PORT on stderr', async () => {
    const { code, stderr, stdout } = await runMain({ PORT: 'abc' });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toMatch(/\bPORT\b/);
    expect(stdout).not.toMatch(/Listening/);
  });

  it('exits non-zero in production without JWT_SECRET and names JWT_SECRET', async () => {
    const { code, stderr } = await runMain({ NODE_ENV: 'production', PORT: '0' });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toMatch(/\bJWT_SECRET\b/);
  });

  it('runs as production when NODE_ENV is unset: exits non-zero without JWT_SECRET', async () => {
    const { code, stderr, stdout } = await runMain({ PORT: '0', HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(stderr).toContain('JWT_SECRET: must be set when NODE_ENV=production');
    expect(stdout).not.toMatch(/Listening/);
  });

  const weakSecrets: [string, string, RegExp][] = [
    ['JWT_SECRET=a', 'a', /JWT_SECRET: must be at least 32 bytes/],
    ...[...PUBLISHED_JWT_SECRETS].map((secret): [string, string, RegExp] => [
      'a published secret',
      secret,
      /JWT_SECRET: must not be a secret published/,
    ]),
  ];
  it.each(weakSecrets)(
    'refuses %s in production, naming JWT_SECRET and not its value',
    async (_, secret, rule) => {
      const { code, stderr, stdout } = await runMain({
        NODE_ENV: 'production',
        PORT: '0',
        HOST: '127.0.0.1',
        JWT_SECRET: secret,
      });
      expect(code).toBe(1);
      expect(stderr).toMatch(rule);
      if (secret.length > 1) expect(stderr).not.toContain(secret);
      expect(stdout).not.toMatch(/Listening/);
    },
  );

  it('names every bad variable and never prints a secret value', async () => {
    const { code, stderr } = await runMain({
      PORT: 'abc',
      MAX_MESSAGE_BYTES: '0',
      JWT_SECRET: 'jwt-secret-must-not-leak',
      REDIS_URL: 'http://user:redis-password-must-not-leak@localhost',
    });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/\bPORT\b/);
    expect(stderr).toMatch(/\bMAX_MESSAGE_BYTES\b/);
    expect(stderr).toMatch(/\bREDIS_URL\b/);
    expect(stderr).not.toContain('jwt-secret-must-not-leak');
    expect(stderr).not.toContain('redis-password-must-not-leak');
  });
});

describe('node dist/main.js with NODE_ENV unset and a strong JWT_SECRET', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    // The harness sets NODE_ENV=test; an empty value is unset, as in a bare shell.
    server = await startServerProcess({ NODE_ENV: '', JWT_SECRET: 'x'.repeat(48) });
  }, 30_000);

  afterAll(async () => {
    server.kill();
    await withTimeout(server.exited, EXIT_WAIT_MS, 'the server to exit');
  });

  it('runs as production: no /auth/dev-token', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/auth/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'mallory' }),
    });
    expect(response.status).toBe(404);
    expect(server.output()).not.toMatch(/development secret/);
  });

  it('sends no X-Powered-By header', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
