/**
 * `npm run bench:cluster`'s results document (JSON) and its Markdown report: four instances on
 * one Redis against four on a Redis Cluster, per workload, the least disturbed round with the
 * range over every round.
 */
import type { Machine } from './proc-stats';
import type { Placement } from './processes';
import { disturbance } from './report';
import type { ThroughputFigures } from './scenarios';

/**
 * Small and large plain rooms (PUBLISH, SPUBLISH on the cluster), then small channels with
 * history (one Lua script each).
 */
export const WORKLOADS = ['rooms', 'large-rooms', 'channels'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** `count` rooms or channels, each with one sender and `receiversPerRoom` receivers. */
export interface WorkloadShape {
  readonly kind: 'rooms' | 'channels';
  readonly count: number;
  readonly receiversPerRoom: number;
}

export const SIDES = ['single', 'cluster'] as const;
export type Side = (typeof SIDES)[number];
export const SIDE_NAMES: Record<Side, string> = {
  single: 'one Redis',
  cluster: 'Redis Cluster',
};

export interface RedisNodeWindow {
  readonly port: number;
  readonly primary: boolean;
  /** utime + stime of the node over the measured window, µs. */
  readonly cpuUs: number;
}

/**
 * A side's CPU with its four instances connected and no load, as shares of one core: measured
 * at the start of each of its turns (the instances are fresh in each).
 */
export interface IdleCpu {
  readonly instancesPercent: number;
  readonly redisAllPercent: number;
  readonly redisPrimariesPercent: number;
}

/** One measured window of one side. */
export interface SideWindow {
  readonly figures: ThroughputFigures;
  /** Every redis-server of the side (one, or the cluster's six). */
  readonly redisNodes: readonly RedisNodeWindow[];
  /** The side's idle CPU in the same turn: what a window costs whatever it carries. */
  readonly idle: IdleCpu;
}

export interface ClusterBenchResults {
  readonly generatedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  readonly placement: Placement;
  /** Busy share of each CPU in the second before the bench started (other people's load). */
  readonly backgroundLoadPercent: number[];
  /** /proc/loadavg (1, 5, 15 minutes) when the run started and when it ended. */
  readonly loadAverage: {
    readonly atStart: readonly number[];
    readonly atEnd: readonly number[];
  };
  readonly settings: {
    readonly warmupMs: number;
    readonly measureMs: number;
    readonly rounds: number;
    readonly instances: number;
    readonly workloads: Record<Workload, WorkloadShape>;
    readonly inFlightPerSender: number;
    readonly messageBytes: number;
    /** The environment every instance ran with (JWT_SECRET masked), apart from the Redis target. */
    readonly switchboardEnv: Record<string, string>;
    readonly redis: Record<Side, string>;
  };
  /** Each side's Redis before any instance connected: its own cost (gossip, replication). */
  readonly bareIdle: Record<Side, IdleCpu>;
  /** Every window, per workload and side, in round order. */
  readonly rounds: Record<Workload, Record<Side, SideWindow[]>>;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const redisCpuUs = (w: SideWindow, primariesOnly = false) =>
  sum(w.redisNodes.filter((node) => node.primary || !primariesOnly).map((node) => node.cpuUs));
/** Publications in the window: every publication makes `fanOut` deliveries. */
const publications = (w: SideWindow) => w.figures.windowCount / w.figures.fanOut;
const percentOfWindow = (w: SideWindow, micros: number) =>
  (micros / (w.figures.windowMs * 1000)) * 100;

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const micros = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} µs`;
const percent = (value: number) => `${value.toFixed(0)} %`;
const percent2 = (value: number) => `${value.toFixed(2)} %`;

/** What the side's Redis used in the window beyond its idle cost (see IdleCpu), µs. */
const aboveIdleUs = (w: SideWindow, primariesOnly = false) =>
  redisCpuUs(w, primariesOnly) -
  ((primariesOnly ? w.idle.redisPrimariesPercent : w.idle.redisAllPercent) / 100) *
    w.figures.windowMs *
    1000;

interface Metric {
  readonly name: string;
  readonly value: (w: SideWindow) => number;
  readonly format: (value: number) => string;
}

/** Redis CPU (`cpu`, µs) per unit (`per`): of all nodes, then of the primaries alone. */
function redisMetrics(
  label: string,
  cpu: (w: SideWindow, primariesOnly: boolean) => number,
  per: (w: SideWindow) => number,
): Metric[] {
  return [false, true].map((primariesOnly) => ({
    name: `${label}, ${primariesOnly ? 'primaries only' : 'all nodes'}`,
    value: (w) => cpu(w, primariesOnly) / per(w),
    format: micros,
  }));
}

/** What each window is reduced to, in report order. */
export const METRICS: readonly Metric[] = [
  { name: 'deliveries/s', value: (w) => w.figures.rate, format: integer },
  { name: 'delivery p50', value: (w) => w.figures.p50Ms, format: ms },
  { name: 'delivery p99', value: (w) => w.figures.p99Ms, format: ms },
  {
    name: 'Switchboard CPU per delivery (4 instances)',
    value: (w) => w.figures.serverCpuUs,
    format: micros,
  },
  {
    name: 'deliveries per Switchboard CPU-second',
    value: (w) => 1e6 / w.figures.serverCpuUs,
    format: integer,
  },
  ...redisMetrics('Redis CPU per delivery', redisCpuUs, (w) => w.figures.windowCount),
  ...redisMetrics('Redis CPU per publication', redisCpuUs, publications),
  ...redisMetrics('Redis CPU per publication above idle', aboveIdleUs, publications),
  {
    name: 'Redis CPU busy, all nodes (% of one core)',
    value: (w) => percentOfWindow(w, redisCpuUs(w)),
    format: percent,
  },
  {
    name: 'Switchboard CPU busy, 4 instances (% of one core)',
    value: (w) => w.figures.serverCpuPercent,
    format: percent,
  },
  { name: 'load client CPU busy', value: (w) => w.figures.clientCpuPercent, format: percent },
  {
    name: 'other processes, both CPUs (% of one core)',
    value: (w) => disturbance(w.figures),
    format: percent,
  },
];

/** The round (0-based) whose two windows other processes disturbed least. */
export function leastDisturbed(rounds: Record<Side, SideWindow[]>): number {
  const cost = (i: number) => sum(SIDES.map((side) => disturbance(rounds[side][i].figures)));
  let best = 0;
  for (let i = 1; i < rounds.single.length; i++) if (cost(i) < cost(best)) best = i;
  return best;
}

function range(values: readonly number[], format: (value: number) => string): string {
  return `${format(Math.min(...values))} – ${format(Math.max(...values))}`;
}

const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');

function workloadTable(rounds: Record<Side, SideWindow[]>): string {
  const shown = leastDisturbed(rounds);
  const count = rounds.single.length;
  const lines = [
    `| Metric | ${SIDE_NAMES.single} | rounds | ${SIDE_NAMES.cluster} | rounds | cluster ÷ one Redis | rounds |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const metric of METRICS) {
    const values = (side: Side) => rounds[side].map(metric.value);
    const ratios = values('cluster').map((value, i) => value / values('single')[i]);
    lines.push(
      `| ${metric.name} | ${metric.format(values('single')[shown])} | ${range(values('single'), metric.format)} | ` +
        `${metric.format(values('cluster')[shown])} | ${range(values('cluster'), metric.format)} | ` +
        `${times(ratios[shown])} | ${range(ratios, times)} |`,
    );
  }
  return [`Round ${shown + 1} of ${count} shown (the least disturbed); ranges over all ${count}.`]
    .concat('', lines)
    .join('\n');
}

function nodeTable(rounds: Record<Side, SideWindow[]>): string {
  const window = rounds.cluster[leastDisturbed(rounds)];
  const lines = [
    '| Node | Role | CPU busy (% of one core) | CPU per delivery |',
    '| --- | --- | ---: | ---: |',
    ...[...window.redisNodes]
      .sort((a, b) => Number(b.primary) - Number(a.primary) || a.port - b.port)
      .map(
        (node) =>
          `| ${node.port} | ${node.primary ? 'primary' : 'replica'} | ` +
          `${percent(percentOfWindow(window, node.cpuUs))} | ` +
          `${micros(node.cpuUs / window.figures.windowCount)} |`,
      ),
  ];
  return lines.join('\n');
}

/** Each side's idle CPU: the range over its turns, and its Redis before any instance. */
function idleTable(results: ClusterBenchResults): string {
  const turns = (side: Side) => results.rounds[WORKLOADS[0]][side].map((w) => w.idle);
  const row = (name: string, value: (idle: IdleCpu) => number) =>
    `| ${name} | ${SIDES.map((side) => range(turns(side).map(value), percent2)).join(' | ')} |`;
  const bare = (name: string, value: (idle: IdleCpu) => number) =>
    `| ${name} | ${SIDES.map((side) => percent2(value(results.bareIdle[side]))).join(' | ')} |`;
  return [
    `| Idle, % of one core | ${SIDE_NAMES.single} | ${SIDE_NAMES.cluster} |`,
    '| --- | ---: | ---: |',
    row('4 instances', (idle) => idle.instancesPercent),
    row('Redis, all nodes', (idle) => idle.redisAllPercent),
    row('Redis, primaries', (idle) => idle.redisPrimariesPercent),
    bare('Redis, all nodes, no instance connected', (idle) => idle.redisAllPercent),
    bare('Redis, primaries, no instance connected', (idle) => idle.redisPrimariesPercent),
  ].join('\n');
}

const WORKLOAD_NAMES: Record<Workload, string> = {
  rooms: 'Small rooms',
  'large-rooms': 'Large rooms',
  channels: 'Channels with history',
};

function workloadTitle(workload: Workload, shape: WorkloadShape, instances: number): string {
  const { kind, count, receiversPerRoom: receivers } = shape;
  const members = receivers + 1;
  const spread =
    `${count} ${kind}, 1 sender and ${receivers} receivers each, ` +
    `${members / instances} members per instance`;
  if (kind === 'rooms') {
    return (
      `${WORKLOAD_NAMES[workload]}: ${spread} (/ws/room); ${receivers} deliveries per ` +
      'publication; PUBLISH on one Redis, SPUBLISH on the cluster'
    );
  }
  return (
    `${WORKLOAD_NAMES[workload]}: ${spread} (/ws/subscribe, HISTORY_SIZE=100), the sender ` +
    `receiving its own; ${members} deliveries per publication; one Lua script per publication`
  );
}

const loads = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(' ');

export function markdown(results: ClusterBenchResults): string {
  const { machine, placement, settings } = results;
  const pinning = placement.taskset
    ? `the ${settings.instances} instances of each side pinned to CPU ${placement.serverCpu}; ` +
      `the load client, the runner and every redis-server to CPU ${placement.clientCpu}`
    : 'no pinning (taskset missing or one CPU)';
  const sections = [
    '# Four instances on one Redis vs on a Redis Cluster',
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Linux ${machine.kernel}. ` +
      `Run ${results.generatedAt}, ${results.durationS.toFixed(0)} s.`,
    '',
    `Load average (1/5/15 min) at start ${loads(results.loadAverage.atStart)}, at end ` +
      `${loads(results.loadAverage.atEnd)}; other processes before the run: ` +
      `${results.backgroundLoadPercent.map((p, i) => `CPU${i} ${p.toFixed(0)} %`).join(', ')}.`,
    '',
    `Placement: ${pinning}. ${settings.rounds} rounds; in each, one turn per side (which goes ` +
      'first alternates): four fresh instances, their idle CPU, an unreported warm-up window of ' +
      'every workload, then the measured windows, and the instances stopped, so that the side not ' +
      `measured runs no instance (both sides' Redis stay up). Windows: ${settings.warmupMs} ms ` +
      `warm-up and ${settings.measureMs} ms measured; ${settings.inFlightPerSender} messages in ` +
      `flight per sender (closed loop), ${settings.messageBytes}-byte messages.`,
    '',
    `- ${SIDE_NAMES.single}: ${settings.redis.single}`,
    `- ${SIDE_NAMES.cluster}: ${settings.redis.cluster}`,
    '',
    'Redis CPU is the run time of every redis-server of the side over the window ' +
      '(/proc/<pid>/task/*/schedstat: utime + stime without the 10 ms tick rounding), divided by ' +
      'the deliveries the receivers counted in it; a publication is fan-out deliveries. ' +
      '"Above idle" first takes away what the side\'s Redis used with its instances connected ' +
      "and no load, measured at the start of each of the side's turns:",
    '',
    idleTable(results),
  ];
  for (const workload of WORKLOADS) {
    const rounds = results.rounds[workload];
    if (rounds.single.length === 0) continue;
    sections.push(
      '',
      `## ${workloadTitle(workload, settings.workloads[workload], settings.instances)}`,
      '',
      workloadTable(rounds),
      '',
      `Redis Cluster nodes in the round shown:`,
      '',
      nodeTable(rounds),
    );
  }
  return `${sections.join('\n')}\n`;
}
