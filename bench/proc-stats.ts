/** What the bench reads from Linux's /proc: CPU time and RSS of a process, per-CPU load. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

let ticksPerSecond: number | undefined;

/** USER_HZ (`getconf CLK_TCK`), the unit of /proc CPU times; 100 on every common kernel. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(answer.stdout?.trim());
    ticksPerSecond = answer.status === 0 && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** CPU time (user + system) the process has used so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicksPerSecond();
}

/**
 * CPU time the process's threads have run so far, in microseconds, from each thread's
 * /proc/<pid>/task/<tid>/schedstat (run time in ns): the quantity of processCpuMicros without its
 * 10 ms tick rounding, for processes that use little CPU (a Redis node at 1 % of a core runs
 * 30 ms in a 3 s window). A thread that ends takes its time with it: meant for processes whose
 * threads live as long as they do (redis-server).
 */
export function processRunMicros(pid: number): number {
  let nanos = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const schedstat = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8');
    nanos += Number(schedstat.split(' ')[0]);
  }
  return nanos / 1000;
}

/** Resident set size of the process, in KiB (VmRSS). */
export function processRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Busy time of every CPU so far, in microseconds, indexed by CPU number. */
export function cpuBusyMicros(): number[] {
  const busy: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    // user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait.
    const [user, nice, system, , , irq, softirq, steal] = match[2].split(/\s+/).map(Number);
    busy[Number(match[1])] =
      ((user + nice + system + irq + softirq + steal) * 1e6) / clockTicksPerSecond();
  }
  return busy;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  /** The Node version the servers and load clients run on (bench --node). */
  readonly node: string;
  readonly kernel: string;
  readonly taskset: boolean;
}

export function machine(node: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
  return { cpuModel: model.trim(), cores: cpus().length, node, kernel, taskset };
}

/** Busy share (%) of each CPU over the next second: other people's load before a run. */
export async function backgroundLoadPercent(): Promise<number[]> {
  const before = cpuBusyMicros();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = cpuBusyMicros();
  return after.map((busy, cpu) => (busy - before[cpu]) / 10_000);
}

/** The 1, 5 and 15-minute load averages of /proc/loadavg. */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one, five, fifteen];
}
