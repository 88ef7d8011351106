import { execFile } from 'node:child_process';

export interface ScriptRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node <args>` to completion with exactly `env` (nothing inherited, so a developer's JWT_*
 * variables cannot leak in) and a hard timeout. Resolves with the exit code and both outputs;
 * rejects when the process is killed or cannot start.
 */
export function runNodeScript(
  args: readonly string[],
  env: Record<string, string>,
  { cwd, timeoutMs }: { readonly cwd?: string; readonly timeoutMs: number },
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd, env, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${args.join(' ')} did not exit normally: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}
