import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { LaunchOptions } from 'playwright-core';

/**
 * Chromium for the browser tests: Debian's `chromium` package, never a browser downloaded by
 * Playwright (playwright-core has no download step, and we always pass executablePath). With no
 * Chromium, a suite is skipped with a warning, except under CI=true, where it fails.
 */

// The test process's own settings, read in this one place (the application reads src/config).
const IN_CI = process.env.CI === 'true';

/** Where Debian's package puts the launcher when `which` finds nothing. */
const FALLBACK_PATH = '/usr/bin/chromium';

/** Longest a launch may take before the suite fails. */
export const LAUNCH_TIMEOUT_MS = 30_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium launcher: `which chromium`, else /usr/bin/chromium; undefined when neither. */
export function findChromium(): string | undefined {
  const which = spawnSync('which', ['chromium'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  if (found && isExecutable(found)) return found;
  return isExecutable(FALLBACK_PATH) ? FALLBACK_PATH : undefined;
}

/**
 * Headless, as root in a container: no sandbox (it needs user namespaces root does not get),
 * no GPU, and nothing that phones home or updates itself during a test. Playwright gives every
 * launch a fresh temporary profile (--user-data-dir) and deletes it on close.
 */
export function launchOptions(executablePath: string): LaunchOptions {
  return {
    executablePath,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  };
}

/**
 * `describe` with the path of a Chromium to drive. Without one: `describe.skip` and a SKIPPED
 * warning, or, under CI=true, one failing test that says what to install.
 */
export function describeWithChromium(
  name: string,
  body: (executablePath: () => string) => void,
): void {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    const reason = '`chromium` is not on PATH and /usr/bin/chromium does not exist';
    if (IN_CI) {
      describe(name, () => {
        it('has a Chromium to drive', () => {
          throw new Error(`CI=true and ${reason}: install it (apt-get install -y chromium)`);
        });
      });
      return;
    }
    console.warn(
      `SKIPPED "${name}": ${reason}. These browser tests did NOT run; ` +
        'install Chromium (apt-get update && apt-get install -y chromium).',
    );
    describe.skip(name, () => body(() => FALLBACK_PATH));
    return;
  }
  describe(name, () => body(() => executablePath));
}
