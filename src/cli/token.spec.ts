import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SystemClock } from '../common/clock';
import { DEVELOPMENT_JWT_SECRET } from '../config/load-config';
import { TokenVerifier } from '../auth/token-verifier';
import { runNodeScript, type ScriptRun } from '../../test/support/node-script';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const SECRET = 'cli-test-secret-4f9a1c';
/** Generous for a cold ts-node start on a loaded CI machine; a normal run takes well under 2 s. */
const SPAWN_TIMEOUT_MS = 20_000;

/**
 * Runs the CLI the way `npm run token` does, with a hermetic environment and a hard timeout.
 */
function runCli(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return runNodeScript([TS_NODE, '--transpile-only', 'src/cli/token.ts', ...args], env, {
    cwd: ROOT,
    timeoutMs: SPAWN_TIMEOUT_MS,
  });
}

const verifierFor = (secret: string, settings: { issuer?: string; audience?: string } = {}) =>
  new TokenVerifier({ secret, ...settings }, new SystemClock());

describe('npm run token (src/cli/token.ts)', () => {
  jest.setTimeout(SPAWN_TIMEOUT_MS + 5_000);

  it('is the npm script "token"', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    // NODE_ENV defaults to production, which needs a strong JWT_SECRET; the script is for
    // development unless the caller says otherwise.
    expect(pkg.scripts.token).toBe(
      'NODE_ENV=${NODE_ENV:-development} ts-node --transpile-only src/cli/token.ts',
    );
  });

  it('prints only a token, on one line, that verifies with JWT_SECRET and expires after --ttl', async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await runCli(['--sub', 'alice', '--name', 'Alice', '--ttl', '15m'], {
      NODE_ENV: 'test',
      JWT_SECRET: SECRET,
    });
    const after = Math.floor(Date.now() / 1000);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const result = verifierFor(SECRET).verify(run.stdout.trim());
    expect(result).toMatchObject({ ok: true, principal: { sub: 'alice', name: 'Alice' } });
    const exp = result.ok ? result.principal.exp : undefined;
    expect(exp).toBeGreaterThanOrEqual(before + 900);
    expect(exp).toBeLessThanOrEqual(after + 900);
    expect(verifierFor('another-secret').verify(run.stdout.trim()).ok).toBe(false);
  });

  it('defaults the name to sub and the ttl to one hour, and applies JWT_ISSUER/JWT_AUDIENCE', async () => {
    const env = {
      NODE_ENV: 'test',
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'https://auth.example',
      JWT_AUDIENCE: 'sb',
    };
    const before = Math.floor(Date.now() / 1000);
    const run = await runCli(['--sub', 'bob'], env);

    expect(run.code).toBe(0);
    const strict = verifierFor(SECRET, { issuer: 'https://auth.example', audience: 'sb' });
    const result = strict.verify(run.stdout.trim());
    expect(result).toMatchObject({ ok: true, principal: { sub: 'bob', name: 'bob' } });
    const lifetime = (result.ok ? (result.principal.exp ?? 0) : 0) - before;
    expect(lifetime).toBeGreaterThanOrEqual(3600);
    expect(lifetime).toBeLessThanOrEqual(3600 + 30);
  });

  it('signs with the development secret without JWT_SECRET, warning on stderr only', async () => {
    const run = await runCli(['--sub', 'alice', '--ttl', '30'], { NODE_ENV: 'development' });

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/JWT_SECRET is not set/);
    expect(verifierFor(DEVELOPMENT_JWT_SECRET).verify(run.stdout.trim()).ok).toBe(true);
    expect(run.stdout.split('\n')).toHaveLength(2);
  });

  // Concurrent: each case is a cold ts-node start, and they share nothing.
  it.concurrent.each([
    ['no arguments', []],
    ['no --sub', ['--name', 'Alice']],
    ['an empty --sub', ['--sub', '']],
    ['--sub without a value', ['--sub']],
    ['an unknown option', ['--sub', 'alice', '--secret', 'x']],
    ['a positional argument', ['alice']],
    ['an unreadable --ttl', ['--sub', 'alice', '--ttl', '1 hour']],
  ])('exits 2 with usage on stderr and nothing on stdout for %s', async (_, args: string[]) => {
    const run = await runCli(args, { JWT_SECRET: SECRET });

    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('Usage: npm run -s token -- --sub <subject>');
    expect(run.stderr).not.toContain(SECRET);
  });

  it('exits 1 naming the problem, not the secret, when the configuration is invalid', async () => {
    const noSecret = await runCli(['--sub', 'alice'], { NODE_ENV: 'production' });
    expect(noSecret).toMatchObject({ code: 1, stdout: '' });
    expect(noSecret.stderr).toContain('JWT_SECRET: must be set when NODE_ENV=production');

    const badPort = await runCli(['--sub', 'alice'], { JWT_SECRET: SECRET, PORT: 'x' });
    expect(badPort).toMatchObject({ code: 1, stdout: '' });
    expect(badPort.stderr).toContain('PORT');
    expect(badPort.stderr).not.toContain(SECRET);
  });

  it('never prints the value of JWT_SECRET', async () => {
    const run = await runCli(['--sub', SECRET, '--name', 'x'], {
      NODE_ENV: 'production',
      JWT_SECRET: 'production-secret-value-of-32-bytes',
    });

    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('production-secret-value');
  });
});
