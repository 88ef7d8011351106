import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withTimeout } from './wait';

const ROOT = join(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'main.js');
/** The token CLI as the production image runs it. */
export const TOKEN_CLI = join(ROOT, 'dist', 'cli', 'token.js');

/** The console's copy of the client bundle: a dist/ built before the client was is stale. */
const CONSOLE_CLIENT = join(ROOT, 'dist', 'console', 'public', 'client.js');

/** Builds dist/ when it is missing (CI builds before testing; a fresh local checkout may not). */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && existsSync(TOKEN_CLI) && existsSync(CONSOLE_CLIENT)) return;
  const build = spawnSync('npm', ['run', 'build'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (build.status !== 0) {
    throw new Error(`npm run build failed (${build.status}): ${build.stderr}${build.stdout}`);
  }
}

/** A real Switchboard process listening on an ephemeral port of 127.0.0.1. */
export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  /** Everything the process wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Kills the process if it is still running. */
  kill(): void;
}

/** `dist`: the build (see ensureBuilt); `source`: src/main.ts through ts-node, never stale. */
export type ServerEntry = 'dist' | 'source';

const ENTRY_ARGS: Record<ServerEntry, readonly string[]> = {
  dist: [MAIN],
  source: ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')],
};

/**
 * Starts `node dist/main.js` (or the sources, see ServerEntry) with `env` on top of a minimal
 * environment (PATH, NODE_ENV=test), waits for its "Listening on" line and reads the port from it.
 */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 15_000,
  options: { readonly entry?: ServerEntry; readonly fileDescriptorLimit?: number } = {},
): Promise<ServerProcess> {
  const entryArgs = ENTRY_ARGS[options.entry ?? 'dist'];
  const limit = options.fileDescriptorLimit;
  // `ulimit -n` in a shell that then becomes node (exec), so the limit is the server's own.
  const [command, args] =
    limit === undefined
      ? [process.execPath, [...entryArgs]]
      : ['sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...entryArgs]];
  const child = spawn(command, args, {
    cwd: ROOT,
    // NODE_ENV defaults to production, which needs a strong JWT_SECRET: tests opt in to it.
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'test', ...env },
    stdio: 'pipe',
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on http:\/\/[^:\s]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`server exited (${code}) before listening:\n${output}`)),
    );
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const port = await withTimeout(listening, timeoutMs, 'the server to listen');
    return { child, port, output: () => output, exited, kill };
  } catch (error) {
    kill();
    throw error;
  }
}
