import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** The console's copy of the client's browser bundle (gitignored; npm run build makes it). */
export const CONSOLE_CLIENT_BUNDLE = join(ROOT, 'src', 'console', 'public', 'client.js');

/**
 * Jest globalSetup: builds the client and its browser bundle when a checkout has none, since the
 * app refuses to boot without every console file.
 */
export default function ensureClientBundle(): void {
  if (existsSync(CONSOLE_CLIENT_BUNDLE)) return;
  const build = spawnSync('npm', ['run', 'build:client'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (build.status !== 0) {
    throw new Error(
      `npm run build:client failed (${build.status}): ${build.stderr}${build.stdout}`,
    );
  }
}
