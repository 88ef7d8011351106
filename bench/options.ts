/** The command-line options every bench command shares: timing, rounds and the servers' Node. */
import type { Timing } from './scenarios';

export interface BenchOptions {
  readonly timing: Timing;
  /** How many times each throughput scenario is measured on each side. */
  readonly rounds: number;
  /** `--node`: 24 or the path of a node binary for servers and clients; the runner's by default. */
  readonly node?: string;
  /** The command's own boolean flags that were given (among `flags` of parseOptions). */
  readonly flags: ReadonlySet<string>;
}

/**
 * `--warmup-ms N`, `--measure-ms N`, `--rounds N`, `--node 24|PATH`, and the boolean `flags` the
 * command has (`--profile`); anything else throws, naming what is known.
 */
export function parseOptions(
  argv: readonly string[],
  defaults: { readonly timing: Timing; readonly rounds: number },
  flags: readonly string[] = [],
): BenchOptions {
  const given = new Set<string>();
  let { rounds } = defaults;
  let node: string | undefined;
  let { warmupMs, measureMs } = defaults.timing;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (minimum: number) => {
      const number = Number(argv[++i]);
      if (!Number.isInteger(number) || number < minimum)
        throw new Error(`${arg} needs an integer ≥ ${minimum}`);
      return number;
    };
    if (flags.includes(arg)) given.add(arg);
    else if (arg === '--warmup-ms') warmupMs = value(100);
    else if (arg === '--measure-ms') measureMs = value(100);
    else if (arg === '--rounds') rounds = value(1);
    else if (arg === '--node') {
      node = argv[++i];
      if (!node) throw new Error('--node needs 24 or the path of a node binary');
    } else {
      const known = [...flags, '--warmup-ms N', '--measure-ms N', '--rounds N', '--node 24|PATH'];
      throw new Error(`unknown option ${arg} (known: ${known.join(', ')})`);
    }
  }
  return { rounds, node, timing: { warmupMs, measureMs }, flags: given };
}
