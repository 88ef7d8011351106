import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
