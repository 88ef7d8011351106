/**
 * One function per kind of scenario: start a load client, drive it through warm-up and the
 * measured window, read the servers' CPU time or RSS from /proc around it, and turn the counts
 * into figures. Servers are started and stopped by the caller (run.ts).
 */
import type {
  AttackJob,
  BurstJob,
  IdleJob,
  RequestReplyJob,
  RoomJob,
  RoomsJob,
  ThroughputResult,
} from './client-protocol';
import { Histogram } from './histogram';
import { Inspector } from './inspector';
import { ClientFailure, LoadClient, type Placement, type Spawned } from './processes';
import { cpuBusyMicros, processCpuMicros, processRssKiB, processRunMicros } from './proc-stats';

export interface Timing {
  readonly warmupMs: number;
  readonly measureMs: number;
}

/** Figures of one measured window. Rates and CPU are per reply (echo, json) or per delivery. */
export interface ThroughputFigures {
  /** Replies or deliveries per second. */
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time (user + system, every server process of the scenario) per reply/delivery. */
  readonly serverCpuUs: number;
  /** Server CPU time as a share of one core over the window. */
  readonly serverCpuPercent: number;
  readonly clientCpuPercent: number;
  /**
   * CPU time that other processes took on the server's CPU during the window, as a share of one
   * core: what this machine's neighbours cost the measurement. NaN without pinning.
   */
  readonly otherLoadPercent: number;
  /** The same on the client's CPU (the runner and helpers such as Redis not counted). */
  readonly otherClientLoadPercent: number;
  readonly windowMs: number;
  /** Replies or deliveries counted in the window. */
  readonly windowCount: number;
  /** Messages sent and replies/deliveries received over the whole run, warm-up included. */
  readonly sent: number;
  readonly delivered: number;
  /** Deliveries per message sent (1 for request/reply; see ThroughputResult.fanOut). */
  readonly fanOut: number;
  /**
   * CPU time (µs, from schedstat: see processRunMicros) of each helper process (Redis) over the
   * window, in the order they were given.
   */
  readonly helperCpuUs: readonly number[];
  /**
   * The window on the monotonic clock (µs), the clock of `process.hrtime` and of V8's CPU
   * profiles: profile-summary.ts keeps only the samples taken in it.
   */
  readonly monotonicUs: { readonly from: number; readonly to: number };
}

export interface ScenarioContext {
  /** The `node` binary the load clients run on: the servers' (see bench/node-binary.ts). */
  readonly node: string;
  readonly clientScript: string;
  readonly placement: Placement;
  readonly timing: Timing;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cpuOf(servers: readonly Spawned[]): number {
  return servers.reduce((sum, server) => sum + processCpuMicros(server.pid), 0);
}

interface Sample {
  readonly serverCpu: number;
  readonly clientCpu: number;
  /** The runner's own CPU and that of helpers (Redis): known load on the client CPU. */
  readonly ownCpu: number;
  readonly helperCpu: readonly number[];
  readonly busy: number[];
  readonly monotonicUs: number;
}

function sample(
  servers: readonly Spawned[],
  client: LoadClient,
  helpers: readonly Spawned[],
): Sample {
  const runner = process.cpuUsage();
  const helperCpu = helpers.map((helper) => processRunMicros(helper.pid));
  return {
    serverCpu: cpuOf(servers),
    clientCpu: processCpuMicros(client.pid),
    ownCpu: runner.user + runner.system + helperCpu.reduce((sum, cpu) => sum + cpu, 0),
    helperCpu,
    busy: cpuBusyMicros(),
    monotonicUs: Number(process.hrtime.bigint() / 1000n),
  };
}

/**
 * Runs a throughput job (echo, json, room, paced echo under attack) against `servers`, whose CPU is summed: warm-up,
 * then the measured window between two marks, then a drain in which the client checks that every
 * message arrived exactly once. A client that finds any problem makes this throw a ClientFailure.
 */
export async function measureThroughput(
  name: string,
  job: RequestReplyJob | RoomJob | RoomsJob | AttackJob,
  servers: readonly Spawned[],
  context: ScenarioContext,
  helpers: readonly Spawned[] = [],
): Promise<ThroughputFigures> {
  const client = LoadClient.start(
    `load client (${name})`,
    context.clientScript,
    job,
    context.placement,
    context.node,
  );
  try {
    await client.next('ready');
    client.send('go');
    await sleep(context.timing.warmupMs);

    const before = sample(servers, client, helpers);
    client.send('mark');
    const start = (await client.next('marked')).mark;
    await sleep(context.timing.measureMs);
    const after = sample(servers, client, helpers);
    client.send('mark');
    const end = (await client.next('marked')).mark;

    client.send('stop');
    const { result } = await client.next('done');
    return figures(result as ThroughputResult, start, end, before, after, context.placement);
  } finally {
    await client.close();
  }
}

function figures(
  result: ThroughputResult,
  start: { at: number; delivered: number },
  end: { at: number; delivered: number },
  before: Sample,
  after: Sample,
  placement: Placement,
): ThroughputFigures {
  const windowMs = end.at - start.at;
  const windowCount = end.delivered - start.delivered;
  const serverCpu = after.serverCpu - before.serverCpu;
  const latency = Histogram.fromSparse(result.latency);
  const clientCpu = after.clientCpu - before.clientCpu;
  const busyOn = (cpu: number) => after.busy[cpu] - before.busy[cpu];
  const otherLoad = placement.taskset ? busyOn(placement.serverCpu) - serverCpu : Number.NaN;
  const otherClientLoad = placement.taskset
    ? busyOn(placement.clientCpu) - clientCpu - (after.ownCpu - before.ownCpu)
    : Number.NaN;
  const percentOfWindow = (micros: number) => (micros / (windowMs * 1000)) * 100;
  return {
    rate: windowCount / (windowMs / 1000),
    p50Ms: latency.percentile(50) / 1000,
    p99Ms: latency.percentile(99) / 1000,
    serverCpuUs: serverCpu / windowCount,
    serverCpuPercent: percentOfWindow(serverCpu),
    clientCpuPercent: percentOfWindow(clientCpu),
    otherLoadPercent: Math.max(0, percentOfWindow(otherLoad)),
    otherClientLoadPercent: Math.max(0, percentOfWindow(otherClientLoad)),
    windowMs,
    windowCount,
    sent: result.sent,
    delivered: result.delivered,
    fanOut: result.fanOut,
    helperCpuUs: after.helperCpu.map((cpu, i) => cpu - before.helperCpu[i]),
    monotonicUs: { from: before.monotonicUs, to: after.monotonicUs },
  };
}

export interface IdleFigures {
  readonly connections: number;
  readonly opened: number;
  /** RSS with no connection, and with every connection open, each right after a full GC. */
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  /** (RSS after − RSS before) / connections. */
  readonly rssPerConnectionKiB: number;
  /** The same figure without forcing a GC first: what RSS showed at that moment. */
  readonly rssPerConnectionNoGcKiB: number;
  /** Live JS heap per connection (V8 usedSize after a full GC). */
  readonly heapPerConnectionKiB: number;
  /** RSS once every connection has also exchanged one echo (after a full GC). */
  readonly rssAfterEchoKiB: number;
  /** Connections that answered the verification echo. */
  readonly answered: number;
  /** Why connections could not be opened or held, if they could not; empty when all went well. */
  readonly errors: string[];
}

/** After the connections are open, how long the server gets to settle before RSS is read. */
const IDLE_SETTLE_MS = 2000;
/** Connections opened, echoed and closed first, so RSS "before" includes warmed-up code paths. */
const IDLE_WARMUP_CONNECTIONS = 200;

interface MemoryReading {
  /** RSS as found, before the GC. */
  readonly rawRssKiB: number;
  readonly rssKiB: number;
  readonly heapBytes: number;
}

/**
 * Holds `connections` idle sockets on a freshly started server: RSS before and after, then one
 * echo on every socket to prove they all still work. The server must run with
 * `--inspect=127.0.0.1:inspectPort`: each reading follows a full GC (see inspector.ts). A socket
 * that could not be opened is an error of the scenario (reported, not fatal); a wrong or missing
 * echo is a ClientFailure.
 */
export async function measureIdle(
  server: Spawned,
  inspectPort: number,
  url: string,
  connections: number,
  size: number,
  context: ScenarioContext,
): Promise<IdleFigures> {
  const job = (count: number): IdleJob => ({
    kind: 'idle',
    url,
    connections: count,
    concurrency: 200,
    size,
  });
  const inspector = await Inspector.connect(inspectPort);
  const read = async (): Promise<MemoryReading> => {
    const rawRssKiB = processRssKiB(server.pid);
    const heapBytes = await inspector.collectGarbage();
    return { rawRssKiB, rssKiB: processRssKiB(server.pid), heapBytes };
  };
  try {
    await holdConnections(`warm-up (${server.name})`, job(IDLE_WARMUP_CONNECTIONS), context);
    await sleep(1000);
    const before = await read();
    let after: MemoryReading | undefined;
    let afterEcho: MemoryReading | undefined;
    let opened = 0;
    let answered = 0;
    const errors: string[] = [];
    try {
      ({ opened, answered } = await holdConnections(
        `idle (${server.name})`,
        job(connections),
        context,
        {
          held: async () => void (after = await read()),
          echoed: async () => void (afterEcho = await read()),
        },
      ));
    } catch (error) {
      const cannotConnect =
        error instanceof ClientFailure && error.problems.some((p) => p.includes('cannot connect'));
      if (!cannotConnect) throw error;
      errors.push(...error.problems);
    }
    const perConnection = (a: number | undefined, b: number) =>
      a === undefined ? Number.NaN : (a - b) / connections;
    return {
      connections,
      opened,
      rssBeforeKiB: before.rssKiB,
      rssAfterKiB: after?.rssKiB ?? Number.NaN,
      rssPerConnectionKiB: perConnection(after?.rssKiB, before.rssKiB),
      rssPerConnectionNoGcKiB: perConnection(after?.rawRssKiB, before.rawRssKiB),
      heapPerConnectionKiB: perConnection(after?.heapBytes, before.heapBytes) / 1024,
      rssAfterEchoKiB: afterEcho?.rssKiB ?? Number.NaN,
      answered,
      errors,
    };
  } finally {
    inspector.close();
  }
}

async function holdConnections(
  name: string,
  job: IdleJob,
  context: ScenarioContext,
  hooks: { held?: () => Promise<void>; echoed?: () => Promise<void> } = {},
): Promise<{ opened: number; answered: number }> {
  const client = LoadClient.start(
    `load client (${name})`,
    context.clientScript,
    job,
    context.placement,
    context.node,
  );
  try {
    const { connections: opened } = await client.next('ready');
    await sleep(IDLE_SETTLE_MS);
    await hooks.held?.();
    client.send('verify');
    const { answered } = await client.next('verified');
    await hooks.echoed?.();
    client.send('stop');
    await client.next('done');
    return { opened, answered };
  } finally {
    await client.close();
  }
}

export interface BurstFigures {
  readonly sent: number;
  readonly replies: string[];
  readonly echoes: number;
  readonly rateLimited: number;
  /** Replies that are neither the echo of a burst frame nor the rate-limit error. */
  readonly other: number;
}

export const RATE_LIMIT_ERROR = { error: 'Rate limit exceeded' } as const;

/** Sends a burst on one connection and sorts the replies into echoes and rate-limit errors. */
export async function measureBurst(job: BurstJob, context: ScenarioContext): Promise<BurstFigures> {
  const client = LoadClient.start(
    'load client (over-limit)',
    context.clientScript,
    job,
    context.placement,
    context.node,
  );
  try {
    await client.next('ready');
    client.send('go');
    client.send('stop');
    const { result } = await client.next('done');
    const replies = result.kind === 'burst' ? result.replies : [];
    let echoes = 0;
    let rateLimited = 0;
    for (const reply of replies) {
      if (reply.startsWith('Echo: burst:')) echoes++;
      else if (isRateLimitError(reply)) rateLimited++;
    }
    return {
      sent: job.count,
      replies,
      echoes,
      rateLimited,
      other: replies.length - echoes - rateLimited,
    };
  } finally {
    await client.close();
  }
}

function isRateLimitError(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return (
      typeof value === 'object' &&
      value !== null &&
      Object.keys(value).length === 1 &&
      (value as { error?: unknown }).error === RATE_LIMIT_ERROR.error
    );
  } catch {
    return false; // not JSON: not the error reply
  }
}
