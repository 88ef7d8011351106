import { randomBytes } from 'node:crypto';
import {
  ensureBuilt,
  startServerProcess,
  TOKEN_CLI,
  type ServerProcess,
} from './support/server-process';
import { runNodeScript, type ScriptRun } from './support/node-script';
import { TestClient } from './support/ws-client';

/** A cold node start on a loaded machine; a normal run takes a fraction of a second. */
const CLI_TIMEOUT_MS = 15_000;

/**
 * `node dist/cli/token.js`, as `docker compose exec app1 …` runs it in the production image:
 * compiled JavaScript, no ts-node, and only the environment given (nothing inherited).
 */
function runBuiltCli(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return runNodeScript(
    [TOKEN_CLI, ...args],
    { PATH: process.env.PATH ?? '', ...env },
    {
      timeoutMs: CLI_TIMEOUT_MS,
    },
  );
}

describe('the token CLI of the production build (node dist/cli/token.js)', () => {
  // A one-off secret, like `openssl rand -hex 32` in the README's compose section.
  const production = { NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex') };
  let server: ServerProcess | undefined;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ensureBuilt();
    server = await startServerProcess(production);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    server?.kill();
  });

  async function open(path: string): Promise<TestClient> {
    const client = await TestClient.open(`ws://127.0.0.1:${server!.port}${path}`);
    clients.push(client);
    return client;
  }

  it('mints a token with the server’s secret that /ws/secure and the chat accept', async () => {
    const run = await runBuiltCli(['--sub', 'bob@example.com', '--name', 'Bob'], production);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const token = run.stdout.trim();
    expect(run.stdout).toBe(`${token}\n`);

    const secure = await open(`/ws/secure?token=${token}`);
    secure.send('hi');
    expect(await secure.nextText()).toBe('Hello Bob: hi');

    const chat = await open(`/ws/bob@example.com?token=${token}`);
    chat.send('hi');
    expect(await chat.nextText()).toBe('Client bob@example.com: hi');
  });

  it('signs nothing that a server with another secret accepts', async () => {
    const run = await runBuiltCli(['--sub', 'alice'], {
      ...production,
      JWT_SECRET: 'not-the-server-secret-but-32-bytes-long',
    });
    expect(run.code).toBe(0);
    const secure = await open(`/ws/secure?token=${run.stdout.trim()}`);
    expect(await secure.closed()).toEqual({ code: 1008, reason: 'Token invalid' });
  });

  it('refuses to run in production without JWT_SECRET, as the server does (exit 1)', async () => {
    const run = await runBuiltCli(['--sub', 'alice'], { NODE_ENV: 'production' });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('JWT_SECRET: must be set when NODE_ENV=production');
  });

  it('shows the built form in its usage, the one the image can run', async () => {
    const run = await runBuiltCli(['--help'], production);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('node dist/cli/token.js --sub <subject>');
  });
});
