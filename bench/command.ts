/**
 * What every bench command does around its scenarios: pick the Node and the placement, build and
 * transpile, read the machine's load; then run, and either write the report or refuse to.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileChildScripts, ensureBuilt, RESULTS, ROOT } from './child-scripts';
import { resolveNodeBinary } from './node-binary';
import type { BenchOptions } from './options';
import { ClientFailure, killStarted, type Placement } from './processes';
import { backgroundLoadPercent, machine, type Machine } from './proc-stats';
import { progress } from './progress';
import { Bench } from './servers';

/** Servers on CPU 1, load clients, the runner and Redis on CPU 0. */
export const PLACEMENT_CPUS = { serverCpu: 1, clientCpu: 0 } as const;

export interface Prepared {
  readonly bench: Bench;
  readonly machine: Machine;
  readonly placement: Placement;
  /** Busy share of each CPU in the second before the bench started (other people's load). */
  readonly backgroundLoadPercent: number[];
}

/** Prints the Machine line, pins the runner, builds dist/ if needed and transpiles the children. */
export async function prepare(options: BenchOptions): Promise<Prepared> {
  const node = resolveNodeBinary(options.node, ROOT);
  const info = machine(node.version);
  const runner = node.version === process.version ? '' : ` (the runner on ${process.version})`;
  process.stdout.write(
    `Machine: ${info.cpuModel}, ${info.cores} cores, Node ${info.node}${runner}, Linux ${info.kernel}\n`,
  );
  if (info.taskset) {
    // The runner itself (mostly idle) stays off the server CPU, threads included.
    spawnSync('taskset', ['-apc', String(PLACEMENT_CPUS.clientCpu), String(process.pid)]);
  }
  const placement: Placement = { taskset: info.taskset && info.cores >= 2, ...PLACEMENT_CPUS };
  ensureBuilt();
  compileChildScripts();
  const background = await backgroundLoadPercent();
  progress(
    `load from other processes: ${background.map((p, i) => `CPU${i} ${p.toFixed(0)} %`).join(', ')}`,
  );
  return {
    bench: new Bench(placement, options.timing, node.path),
    machine: info,
    placement,
    backgroundLoadPercent: background,
  };
}

/**
 * Runs `run` and writes bench/results/<name>.json (the results) and <name>.md (`markdown` of
 * them), printing the latter. A run that fails, above all one whose client found a lost,
 * duplicated or wrong message, writes nothing, deletes the previous files and exits 1; so does
 * SIGINT or SIGTERM. Every tracked process is killed by pid on the way out.
 */
export async function runBenchCommand<R>(
  name: string,
  run: () => Promise<R>,
  markdown: (results: R) => string,
): Promise<void> {
  process.chdir(ROOT);
  mkdirSync(RESULTS, { recursive: true });
  const outputs = ['json', 'md'].map((extension) => join(RESULTS, `${name}.${extension}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killStarted();
      process.exit(130);
    });
  }
  let results: R;
  try {
    results = await run();
  } catch (error) {
    killStarted();
    // A stale report must not pass for this run's.
    for (const output of outputs) rmSync(output, { force: true });
    if (error instanceof ClientFailure) {
      process.stderr.write(
        `\nREFUSING TO REPORT: ${error.client} found lost, duplicated or wrong messages, ` +
          `so no figure of this run can be trusted:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
    } else {
      process.stderr.write(
        `\nThe bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  }
  const report = markdown(results);
  process.stdout.write(`\n${report}`);
  writeFileSync(outputs[0], `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(outputs[1], report);
  progress(`wrote bench/results/${name}.json and bench/results/${name}.md`);
}
