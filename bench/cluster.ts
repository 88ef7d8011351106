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
  type IdleRedisCpu,
  type Side,
  type SideWindow,
  type Workload,
  type WorkloadShape,
} from './cluster-report';
import { prepare, runBenchCommand } from './command';
import { parseOptions, type BenchOptions } from './options';
import { loadAverage, processRunMicros } from './proc-stats';
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

/** One side of the comparison: four instances and the redis-server processes they use. */
interface Target {
  readonly side: Side;
  readonly instances: readonly Server[];
  readonly redis: readonly Server[];
  readonly primaries: ReadonlySet<Server>;
  readonly description: string;
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

async function startInstances(
  bench: Bench,
  side: Side,
  redis: Record<string, string>,
): Promise<Server[]> {
  const instances: Server[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    instances.push(await bench.switchboard(`switchboard ${i + 1} (${side})`, { redis }));
  }
  return instances;
}

/** The two sides, both started before the first round and kept up until the last. */
async function startTargets(bench: Bench, prefix: string): Promise<Record<Side, Target>> {
  progress('starting one redis-server and four instances on it');
  const single = track(await startRedis(bench.helperCpu, ROOT));
  const singleInstances = await startInstances(bench, 'single', {
    REDIS_URL: `redis://127.0.0.1:${single.port}`,
    REDIS_PREFIX: prefix,
  });
  progress('starting a six-node Redis Cluster and four instances on it');
  const cluster = await startRedisCluster(bench.helperCpu, ROOT);
  const clusterInstances = await startInstances(bench, 'cluster', {
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_PREFIX: prefix,
  });
  const ports = (servers: readonly Server[]) => servers.map((s) => s.port).join(', ');
  return {
    single: {
      side: 'single',
      instances: singleInstances,
      redis: [single],
      primaries: new Set([single]),
      description: `one redis-server on port ${single.port}`,
    },
    cluster: {
      side: 'cluster',
      instances: clusterInstances,
      redis: cluster.nodes,
      primaries: new Set(cluster.primaries),
      description:
        `six redis-server --cluster-enabled yes, primaries on ports ${ports(cluster.primaries)}, ` +
        `replicas on ${ports(cluster.nodes.filter((n) => !cluster.primaries.includes(n)))}`,
    },
  };
}

async function measure(
  bench: Bench,
  target: Target,
  workload: Workload,
  redisOfBothSides: readonly Server[],
): Promise<SideWindow> {
  const figures = await measureThroughput(
    `${workload} on ${target.side}`,
    roomsJob(target.instances, workload),
    target.instances,
    bench.context,
    // Both sides' Redis: the idle side's is known load too, not a neighbour's.
    redisOfBothSides,
  );
  const redisNodes = target.redis.map((node) => ({
    port: node.port,
    primary: target.primaries.has(node),
    cpuUs: figures.helperCpuUs[redisOfBothSides.indexOf(node)],
  }));
  return { figures, redisNodes };
}

/**
 * Each side's Redis CPU with the instances connected and no load (cluster gossip, replication,
 * the instances' PINGs): what a window costs whatever it carries, as a share of one core.
 */
async function idleRedisCpu(
  targets: Record<Side, Target>,
  ms: number,
): Promise<Record<Side, IdleRedisCpu>> {
  const read = () => SIDES.map((side) => targets[side].redis.map((n) => processRunMicros(n.pid)));
  const before = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = read();
  const share = (side: number, primariesOnly: boolean) => {
    const target = targets[SIDES[side]];
    const used = target.redis.reduce(
      (sum, node, i) =>
        primariesOnly && !target.primaries.has(node) ? sum : sum + after[side][i] - before[side][i],
      0,
    );
    return (used / (ms * 1000)) * 100;
  };
  return {
    single: { allPercent: share(0, false), primariesPercent: share(0, true) },
    cluster: { allPercent: share(1, false), primariesPercent: share(1, true) },
  };
}

/** The last lines each instance logged (LOG_LEVEL=warn): why a failed run failed, often. */
function instanceLogs(targets: Record<Side, Target>): string {
  return SIDES.flatMap((side) => targets[side].instances)
    .filter((instance) => instance.output().trim() !== '')
    .map((instance) => `--- ${instance.name}:\n${instance.output().slice(-2000)}`)
    .join('\n');
}

async function runAll(options: BenchOptions): Promise<ClusterBenchResults> {
  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  const prepared = await prepare(options);
  const { bench } = prepared;
  const prefix = `switchboard-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const targets = await startTargets(bench, prefix);
  const allRedis = [...targets.single.redis, ...targets.cluster.redis];
  const rounds = {} as ClusterBenchResults['rounds'];
  for (const workload of WORKLOADS) rounds[workload] = { single: [], cluster: [] };
  let idle: Record<Side, IdleRedisCpu>;
  try {
    progress(`idle: both sides connected, no load, ${options.timing.measureMs} ms`);
    idle = await idleRedisCpu(targets, options.timing.measureMs);
    // Round 0 warms the fresh instances up (their first windows ran at a third of their later
    // speed) and is not reported.
    for (let round = 0; round <= options.rounds; round++) {
      for (const workload of WORKLOADS) {
        const order = round % 2 === 1 ? SIDES : [...SIDES].reverse();
        for (const side of order) {
          const window = await measure(bench, targets[side], workload, allRedis);
          const label = round === 0 ? 'warm-up round' : `round ${round}/${options.rounds}`;
          describeThroughput(`${label}: ${workload}, ${SIDE_NAMES[side]}`, window.figures);
          if (round > 0) rounds[workload][side].push(window);
        }
      }
    }
  } catch (error) {
    const logs = instanceLogs(targets);
    if (logs) process.stderr.write(`\nWhat the instances logged:\n${logs}\n`);
    throw error;
  } finally {
    const instances = SIDES.flatMap((side) => targets[side].instances);
    await stop(...instances, ...allRedis);
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
      redis: { single: targets.single.description, cluster: targets.cluster.description },
    },
    idleRedisCpu: idle,
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
