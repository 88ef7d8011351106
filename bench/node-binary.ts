/**
 * Which `node` the bench's servers and load clients run on (`--node`). The runner itself stays on
 * whatever started it: it is mostly idle and its Node does not enter any figure.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The one Node line with a pinned binary the bench can fetch itself (see .ci/node24). */
const PINNED_MAJOR = '24';

export interface NodeBinary {
  readonly path: string;
  /** What `path --version` printed, e.g. v24.22.3. */
  readonly version: string;
}

/**
 * `undefined`: the runner's own node. `24`: the pinned Node 24 LTS from the cache that .ci/run
 * uses (installed from the npm registry on first use). Anything else: the path of a node binary.
 */
export function resolveNodeBinary(choice: string | undefined, root: string): NodeBinary {
  let path = choice ?? process.execPath;
  if (choice !== undefined && /^\d+$/.test(choice)) {
    if (choice !== PINNED_MAJOR) {
      throw new Error(
        `--node ${choice}: only ${PINNED_MAJOR} is pinned (.ci/node24); give the path of a node binary instead`,
      );
    }
    const fetched = spawnSync('bash', [join(root, '.ci', 'node24')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (fetched.status !== 0) throw new Error('.ci/node24 could not provide Node 24');
    path = join(fetched.stdout.trim(), 'node');
  }
  const answer = spawnSync(path, ['--version'], { encoding: 'utf8' });
  const version = answer.stdout?.trim() ?? '';
  if (answer.status !== 0 || !version.startsWith('v')) {
    throw new Error(
      `--node ${path}: not a working node binary (${answer.error?.message ?? version})`,
    );
  }
  return { path, version };
}
