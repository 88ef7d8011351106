/**
 * `npm run bench:cluster [-- --rounds N] [--warmup-ms N] [--measure-ms N] [--node 24|PATH]`:
 * four Switchboard instances on one redis-server against four on a six-node Redis Cluster
 * (three primaries, one replica each), in the same run, rounds alternating. See bench/README.md.
 *
 * Load (WORKLOAD_SHAPES): rooms or channels, each with one sender and its receivers spread over
 * the four instances, so that most deliveries cross instances through Redis: many small rooms
 * (two members per instance), a few large ones (a hundred per instance), and many small channels
 * with history. Measured per window: deliveries/s, delivery latency, the instances' CPU and the
 * CPU of every redis-server of the side under test.
 */
import { randomBytes } from 'node:crypto';
import type { RoomJob, RoomsJob } from './client-protocol';
import { ROOT } from './child-scripts';
import {
  SIDE_NAMES,
  markdown,
  SIDES,
  WORKLOADS,
  type ClusterBenchResults,
  type IdleCpu,
  type Side,
  type SideWindow,
  type Workload,
  type WorkloadShape,
} from './cluster-report';
import { prepare, runBenchCommand } from './command';
import { parseOptions, type BenchOptions } from './options';
import { loadAverage, processCpuMicros, processRunMicros } from './proc-stats';
import { startRedis, stop, track, type Server } from './processes';
import { describeThroughput, progress } from './progress';
import { startRedisCluster } from './redis-cluster';
import { measureThroughput, type Timing } from './scenarios';
import { urlOf, type Bench } from './servers';

const INSTANCES = 4;
/**
 * Small rooms: with the sender, two members on each instance, so each Redis message an instance
 * receives becomes about two deliveries. Large rooms: a hundred members on each instance. The
 * two give Switchboard's cost per Redis message and per delivery apart; Redis's cost per
 * publication should not depend on the room's size (four subscribed instances in both).
 */
const WORKLOAD_SHAPES: Record<Workload, WorkloadShape> = {
  rooms: { kind: 'rooms', count: 64, receiversPerRoom: 7 },
  'large-rooms': { kind: 'rooms', count: 4, receiversPerRoom: 399 },
  channels: { kind: 'channels', count: 64, receiversPerRoom: 7 },
};
/** Messages per sender that have not reached every member yet: the closed loop's window. */
const IN_FLIGHT_PER_SENDER = 2;
const MESSAGE_BYTES = 64;
const DEFAULT_TIMING: Timing = { warmupMs: 1500, measureMs: 3000 };
const DEFAULT_ROUNDS = 3;

/** One side's Redis: the processes, which of them serve slots, and what the instances are given. */
interface RedisSide {
  readonly side: Side;
  readonly nodes: readonly Server[];
  readonly primaries: ReadonlySet<Server>;
  /** REDIS_URL or REDIS_CLUSTER_NODES, and REDIS_PREFIX. */
  readonly env: Record<string, string>;
  readonly description: string;
  /** Stops the nodes by pid (and removes the cluster's directory). */
  stop(): Promise<void>;
}

/**
 * Room (or channel) r: its sender on instance r mod 4, its receivers on the instances after it in
 * turn (r+1, r+2, r+3, r, r+1, …), so three quarters of a room's receivers are on another
 * instance than the sender (6 of 7 in a small room), and every instance holds senders and
 * receivers. Room names differ only by r, which spreads their hash slots over the cluster's
 * three primaries.
 */
function roomsJob(instances: readonly Server[], workload: Workload): RoomsJob {
  const { kind, count, receiversPerRoom } = WORKLOAD_SHAPES[workload];
  const channels = kind === 'channels';
  const rooms = Array.from({ length: count }, (_, r): RoomJob => {
    const name = `${workload}-${r}`;
    const path = channels ? `/ws/subscribe/${name}` : `/ws/room/${name}`;
    const on = (k: number) => `${urlOf(instances[(r + k) % INSTANCES])}${path}`;
    return {
      kind: 'room',
      senderUrl: on(0),
      receiverUrls: [on(1), on(2), on(3), on(0)],
      senders: 1,
      receivers: receiversPerRoom,
      inFlightPerSender: IN_FLIGHT_PER_SENDER,
      size: MESSAGE_BYTES,
      // On a channel the sender is a subscriber too and receives its own publications.
      echoesToSender: channels,
    };
  });
  return { kind: 'rooms', rooms };
}

async function startInstances(bench: Bench, redis: RedisSide): Promise<Server[]> {
  const instances: Server[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const name = `switchboard ${i + 1} (${SIDE_NAMES[redis.side]})`;
    instances.push(await bench.switchboard(name, { redis: redis.env }));
  }
  return instances;
}

/** Both sides' Redis, started before the first round and kept up until the last. */
async function startRedisSides(bench: Bench, prefix: string): Promise<Record<Side, RedisSide>> {
  progress('starting one redis-server and a six-node Redis Cluster');
  const single = track(await startRedis(bench.helperCpu, ROOT));
  const cluster = await startRedisCluster(bench.helperCpu, ROOT);
  const ports = (servers: readonly Server[]) => servers.map((s) => s.port).join(', ');
  return {
    single: {
      side: 'single',
      nodes: [single],
      primaries: new Set([single]),
      env: { REDIS_URL: `redis://127.0.0.1:${single.port}`, REDIS_PREFIX: prefix },
      description: `one redis-server on port ${single.port}`,
      stop: () => stop(single),
    },
    cluster: {
      side: 'cluster',
      nodes: cluster.nodes,
      primaries: new Set(cluster.primaries),
      env: { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix },
      description:
        `six redis-server --cluster-enabled yes, primaries on ports ${ports(cluster.primaries)}, ` +
        `replicas on ${ports(cluster.nodes.filter((n) => !cluster.primaries.includes(n)))}`,
      stop: () => cluster.stop(),
    },
  };
}

async function measure(
  bench: Bench,
  instances: readonly Server[],
  redis: RedisSide,
  workload: Workload,
  idle: IdleCpu,
  redisOfBothSides: readonly Server[],
): Promise<SideWindow> {
  const figures = await measureThroughput(
    `${workload} on ${redis.side}`,
    roomsJob(instances, workload),
    instances,
    bench.context,
    // Both sides' Redis: the idle side's is known load too, not a neighbour's.
    redisOfBothSides,
  );
  const redisNodes = redis.nodes.map((node) => ({
    port: node.port,
    primary: redis.primaries.has(node),
    cpuUs: figures.helperCpuUs[redisOfBothSides.indexOf(node)],
  }));
  return { figures, redisNodes, idle };
}

/**
 * With the instances connected and no load: their CPU, and their Redis's (cluster gossip,
 * replication, the instances' PINGs and slot refreshes), as shares of one core.
 */
async function idleCpu(
  instances: readonly Server[],
  redis: RedisSide,
  ms: number,
): Promise<IdleCpu> {
  const read = () => ({
    instances: instances.reduce((sum, instance) => sum + processCpuMicros(instance.pid), 0),
    nodes: redis.nodes.map((node) => processRunMicros(node.pid)),
  });
  const before = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = read();
  const percent = (micros: number) => (micros / (ms * 1000)) * 100;
  const redisUs = (primariesOnly: boolean) =>
    redis.nodes.reduce(
      (sum, node, i) =>
        primariesOnly && !redis.primaries.has(node) ? sum : sum + after.nodes[i] - before.nodes[i],
      0,
    );
  return {
    instancesPercent: percent(after.instances - before.instances),
    redisAllPercent: percent(redisUs(false)),
    redisPrimariesPercent: percent(redisUs(true)),
  };
}

/** The last lines each instance logged (LOG_LEVEL=warn): why a failed run failed, often. */
function instanceLogs(instances: readonly Server[]): string {
  return instances
    .filter((instance) => instance.output().trim() !== '')
    .map((instance) => `--- ${instance.name}:\n${instance.output().slice(-2000)}`)
    .join('\n');
}

/**
 * One side's turn in a round: four fresh instances, their idle CPU, an unreported warm-up window
 * of every workload (fresh instances ran their first windows at a third of their later speed),
 * then the measured windows; the instances are stopped at the end, so that the side not measured
 * runs no instance (an idle instance on a cluster used 7 % of a core here, on one Redis 2 %).
 */
async function sideTurn(
  bench: Bench,
  redis: RedisSide,
  redisOfBothSides: readonly Server[],
  label: string,
): Promise<Record<Workload, SideWindow>> {
  const instances = await startInstances(bench, redis);
  try {
    const idle = await idleCpu(instances, redis, bench.context.timing.measureMs);
    const measured = {} as Record<Workload, SideWindow>;
    for (const pass of ['warm-up', 'measured'] as const) {
      for (const workload of WORKLOADS) {
        const window = await measure(bench, instances, redis, workload, idle, redisOfBothSides);
        const name = `${label}, ${pass === 'warm-up' ? 'warm-up: ' : ''}${workload}, ${SIDE_NAMES[redis.side]}`;
        describeThroughput(name, window.figures);
        if (pass === 'measured') measured[workload] = window;
      }
    }
    return measured;
  } catch (error) {
    const logs = instanceLogs(instances);
    if (logs) process.stderr.write(`\nWhat the instances logged:\n${logs}\n`);
    throw error;
  } finally {
    await stop(...instances);
  }
}

async function runAll(options: BenchOptions): Promise<ClusterBenchResults> {
  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  const prepared = await prepare(options);
  const { bench } = prepared;
  const prefix = `switchboard-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const redis = await startRedisSides(bench, prefix);
  const allRedis = [...redis.single.nodes, ...redis.cluster.nodes];
  const rounds = {} as ClusterBenchResults['rounds'];
  for (const workload of WORKLOADS) rounds[workload] = { single: [], cluster: [] };
  let bareIdle: Record<Side, IdleCpu>;
  try {
    progress("idle: both sides' Redis with no instance connected");
    const [single, cluster] = await Promise.all(
      SIDES.map((side) => idleCpu([], redis[side], options.timing.measureMs)),
    );
    bareIdle = { single, cluster };
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? SIDES : [...SIDES].reverse();
      for (const side of order) {
        const windows = await sideTurn(
          bench,
          redis[side],
          allRedis,
          `round ${round}/${options.rounds}`,
        );
        for (const workload of WORKLOADS) rounds[workload][side].push(windows[workload]);
      }
    }
  } finally {
    await Promise.all(SIDES.map((side) => redis[side].stop()));
  }
  return {
    generatedAt: new Date(startedAt).toISOString(),
    durationS: (Date.now() - startedAt) / 1000,
    machine: prepared.machine,
    placement: prepared.placement,
    backgroundLoadPercent: prepared.backgroundLoadPercent,
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
    settings: {
      ...options.timing,
      rounds: options.rounds,
      instances: INSTANCES,
      workloads: WORKLOAD_SHAPES,
      inFlightPerSender: IN_FLIGHT_PER_SENDER,
      messageBytes: MESSAGE_BYTES,
      switchboardEnv: { ...bench.reportedEnv, REDIS_PREFIX: prefix },
      redis: { single: redis.single.description, cluster: redis.cluster.description },
    },
    bareIdle,
    rounds,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), {
    timing: DEFAULT_TIMING,
    rounds: DEFAULT_ROUNDS,
  });
  await runBenchCommand('cluster-latest', () => runAll(options), markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`The bench failed: ${String(error)}\n`);
  process.exit(1);
});
