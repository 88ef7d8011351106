/**
 * Summarizes a V8 .cpuprofile (as written by `node --cpu-prof`): the functions with the most
 * self time, each with its file:line (mapped back to src/*.ts through dist/'s source maps when
 * there are any), and the self time by area (Switchboard's code, each node_modules package,
 * Node internals, GC).
 *
 * Usage: ts-node --transpile-only bench/profile-summary.ts FILE.cpuprofile [--top N] [--window FROM:TO]
 *
 * `--window` keeps only the samples taken between two instants of the monotonic clock, in µs
 * (the clock of `process.hrtime` and of the profile's own timestamps): the bench passes its
 * measured window, so process start-up and warm-up do not count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** Zero-based, like columnNumber; -1 when unknown. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface FunctionCost {
  readonly name: string;
  readonly location: string;
  readonly area: string;
  selfUs: number;
  /** Time with the function anywhere on the stack (inclusive), each sample counted once. */
  totalUs: number;
}

export interface ProfileDigest {
  /** Sampled time outside (idle), in µs: what the percentages are of. */
  readonly busyUs: number;
  readonly idleUs: number;
  readonly functions: FunctionCost[];
  readonly areas: { readonly area: string; readonly selfUs: number }[];
}

const sourceMaps = new Map<string, SourceMap | undefined>();

function sourceMapOf(file: string): SourceMap | undefined {
  if (!sourceMaps.has(file)) {
    const mapFile = `${file}.map`;
    let map: SourceMap | undefined;
    if (existsSync(mapFile)) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload);
      } catch {
        map = undefined; // an unreadable map: the summary shows the generated location instead
      }
    }
    sourceMaps.set(file, map);
  }
  return sourceMaps.get(file);
}

function pathOf(url: string): string | undefined {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (url.startsWith('/')) return url;
  return undefined;
}

/** file:line (1-based) of a call frame, in the TypeScript source when a source map says where. */
function locate(frame: CallFrame): string {
  const file = pathOf(frame.url);
  const line = frame.lineNumber + 1;
  if (!file) return frame.url === '' ? '' : `${frame.url}:${line}`;
  const map = frame.lineNumber >= 0 ? sourceMapOf(file) : undefined;
  const entry = map?.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber));
  if (entry && 'originalSource' in entry) {
    // Sources are relative to the map's directory (and sourceRoot) unless they are URLs.
    const source = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : resolve(dirname(file), map?.payload.sourceRoot ?? '', entry.originalSource);
    return `${relative(process.cwd(), source)}:${entry.originalLine + 1}`;
  }
  return `${relative(process.cwd(), file)}:${line}`;
}

/** Areas whose functions are listed by inclusive time: Switchboard, Nest, the baseline. */
const APPLICATION_AREAS = /^(switchboard \(src\)|@nestjs\/|baseline server)/;

/** Where a function lives: "switchboard", "bench", a package name, "node", or a V8 pseudo-node. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'native/V8 builtins';
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/switchboard-bench/')) return 'baseline server (bench)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1];
  if (/\/dist\/|\/src\//.test(url)) return 'switchboard (src)';
  if (url.includes('/bench/')) return 'bench';
  return url;
}

/** Instants of the monotonic clock, in µs, as in a profile's startTime and endTime. */
export interface Window {
  readonly from: number;
  readonly to: number;
}

export function digest(profile: CpuProfile, window?: Window): ProfileDigest {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfById = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (window && (at < window.from || at > window.to)) continue;
    // A sample's time runs until the next one; the last sample gets the mean interval.
    const next =
      i + 1 < timeDeltas.length
        ? timeDeltas[i + 1]
        : (profile.endTime - profile.startTime) / samples.length;
    selfById.set(samples[i], (selfById.get(samples[i]) ?? 0) + Math.max(0, next));
  }
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const keyOf = (frame: CallFrame) =>
    `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
  const functions = new Map<string, FunctionCost>();
  const costOf = (frame: CallFrame): FunctionCost => {
    const key = keyOf(frame);
    let cost = functions.get(key);
    if (!cost) {
      const name = frame.functionName || '(anonymous)';
      cost = { name, location: locate(frame), area: areaOf(frame), selfUs: 0, totalUs: 0 };
      functions.set(key, cost);
    }
    return cost;
  };
  const areas = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, selfUs] of selfById) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleUs += selfUs;
      continue;
    }
    busyUs += selfUs;
    const cost = costOf(frame);
    cost.selfUs += selfUs;
    areas.set(cost.area, (areas.get(cost.area) ?? 0) + selfUs);
    // Inclusive time: every function on this stack, once even if it recurses.
    const seen = new Set<FunctionCost>();
    for (let node: number | undefined = id; node !== undefined; node = parentOf.get(node)) {
      const ancestor = byId.get(node)?.callFrame;
      if (ancestor && ancestor.functionName !== '(root)') seen.add(costOf(ancestor));
    }
    for (const ancestor of seen) ancestor.totalUs += selfUs;
  }
  return {
    busyUs,
    idleUs,
    functions: [...functions.values()].sort((a, b) => b.selfUs - a.selfUs),
    areas: [...areas.entries()]
      .map(([area, selfUs]) => ({ area, selfUs }))
      .sort((a, b) => b.selfUs - a.selfUs),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** The text summary: top `top` functions by self time, then self time by area. */
export function summarize(file: string, top = 25, window?: Window): string {
  const profile = readProfile(file);
  const result = digest(profile, window);
  const share = (us: number) => `${((us / result.busyUs) * 100).toFixed(1).padStart(5)} %`;
  const msOf = (us: number) => `${(us / 1000).toFixed(1).padStart(8)} ms`;
  const span = window
    ? `samples of --window ${window.from}:${window.to} ` +
      `(${((window.from - profile.startTime) / 1e6).toFixed(1)} s to ` +
      `${((window.to - profile.startTime) / 1e6).toFixed(1)} s after the profile started)`
    : 'every sample';
  const lines = [
    `${relative(process.cwd(), file)}, ${span}:`,
    `${(result.busyUs / 1000).toFixed(0)} ms busy, ${(result.idleUs / 1000).toFixed(0)} ms idle ` +
      '(percentages are of busy time)',
    '',
    `Top ${top} functions by self time:`,
    ' #   self time   share  function — file:line',
    ...result.functions
      .slice(0, top)
      .map(
        (f, i) =>
          `${String(i + 1).padStart(2)} ${msOf(f.selfUs)} ${share(f.selfUs)}  ${f.name} — ${f.location || f.area}`,
      ),
    '',
    "The application's own frames by total (inclusive) time:",
    ...result.functions
      .filter((f) => APPLICATION_AREAS.test(f.area))
      .sort((a, b) => b.totalUs - a.totalUs)
      .slice(0, 15)
      .map((f) => `   ${msOf(f.totalUs)} ${share(f.totalUs)}  ${f.name} — ${f.location || f.area}`),
    '',
    'Self time by area:',
    ...result.areas.slice(0, 15).map((a) => `   ${msOf(a.selfUs)} ${share(a.selfUs)}  ${a.area}`),
  ];
  return lines.join('\n');
}

function main(): void {
  const files: string[] = [];
  let top = 25;
  let window: Window | undefined;
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') {
      top = Number(args[++i]);
    } else if (args[i] === '--window') {
      const [from, to] = (args[++i] ?? '').split(':').map(Number);
      window = { from, to };
    } else {
      files.push(args[i]);
    }
  }
  const badWindow = window !== undefined && !(window.from < window.to);
  if (files.length === 0 || !Number.isInteger(top) || top < 1 || badWindow) {
    process.stderr.write(
      'usage: profile-summary FILE.cpuprofile [...] [--top N] [--window FROM:TO]\n',
    );
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${summarize(file, top, window)}\n\n`);
}

if (require.main === module) main();
