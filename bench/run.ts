/**
 * `npm run bench [-- --profile] [--warmup-ms N] [--measure-ms N] [--rounds N] [--node 24|PATH]`: Switchboard
 * against a bare-`ws` baseline on the same machine in one run. See bench/README.md for what is
 * measured and how.
 *
 * Every server and client is its own process (servers pinned to one CPU, clients to the other).
 * A run in which any message was lost, duplicated or garbled is not reported: the bench says why
 * and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import type { AttackJob, BurstJob, RequestReplyJob, RoomJob } from './client-protocol';
import { resolveNodeBinary } from './node-binary';
import { summarize } from './profile-summary';
import {
  ClientFailure,
  fdLimit,
  freePort,
  startNodeServer,
  startRedis,
  stopProcess,
  type Placement,
  type Server,
  type Spawned,
} from './processes';
import { cpuBusyMicros, machine } from './proc-stats';
import {
  evaluateTargets,
  leastDisturbedRound,
  markdown,
  type BenchResults,
  type Pair,
  type ProfileSummary,
  type ShownRound,
} from './report';
import {
  measureBurst,
  measureIdle,
  measureThroughput,
  type ScenarioContext,
  type ThroughputFigures,
  type Timing,
} from './scenarios';

const ROOT = resolve(__dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');
/**
 * The child processes' scripts, transpiled from bench/*.ts so they run on plain `node` like
 * dist/main.js does. Under node_modules/ so that `ws` resolves and no linter or formatter sees them.
 */
const JS_DIR = join(ROOT, 'node_modules', '.cache', 'switchboard-bench');
const MAIN = join(ROOT, 'dist', 'main.js');
const CHILD_SCRIPTS = [
  'baseline-server',
  'load-client',
  'histogram',
  'client-protocol',
  'attack-payloads',
  'enhancers-server',
];
/** The bench-only gateways of enhancers-server.ts. */
const ENHANCER_PATHS = { bare: '/bench/json/bare', enhanced: '/bench/json/enhanced' } as const;

const MESSAGE_BYTES = 64;
const CONNECTIONS = 50;
const IN_FLIGHT = 10;
const ROOM_SENDERS = 5;
const ROOM_RECEIVERS = 500;
/** Messages per sender that have not yet reached every member: the room's closed loop. */
const ROOM_IN_FLIGHT_PER_SENDER = 2;
const IDLE_CONNECTIONS = 10_000;
/** The largest RATE_LIMIT_MAX Switchboard accepts: no benchmark connection comes near it. */
const BENCH_RATE_LIMIT_MAX = 1_000_000_000;
/** Switchboard's defaults (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS): 10 per 1000 ms. */
const DEFAULT_RATE_LIMIT = 10;
const BURST = 15;
/** Validation attack: paced echo clients, each under the default limit, and the attackers. */
const ATTACK_ECHO_CONNECTIONS = 20;
const ATTACK_ECHO_INTERVAL_MS = 125;
const ATTACKERS = 4;
/** Each attacker sends at the default rate limit (10 per 1000 ms). */
const ATTACK_INTERVAL_MS = 1000 / DEFAULT_RATE_LIMIT;
/** Switchboard's default MAX_MESSAGE_BYTES: the largest frame an attacker can send. */
const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
/** The echo client's p99 under attack may be at most this many times its p99 without. */
const ATTACK_P99_RATIO = 3;
const ATTACK_TIMING: Timing = { warmupMs: 1000, measureMs: 5000 };
const ROOM_ID = 'bench-room';
const CHANNEL_ID = 'bench-channel';

const DEFAULT_TIMING: Timing = { warmupMs: 1000, measureMs: 2500 };
const DEFAULT_ROUNDS = 4;
const PLACEMENT_CPUS = { serverCpu: 1, clientCpu: 0 };

interface Options {
  readonly profile: boolean;
  readonly timing: Timing;
  /** How many times each throughput scenario is measured on each server. */
  readonly rounds: number;
  /** `--node`: 24 or the path of a node binary for servers and clients; the runner's by default. */
  readonly node?: string;
}

function parseOptions(argv: readonly string[]): Options {
  let profile = false;
  let rounds = DEFAULT_ROUNDS;
  let node: string | undefined;
  let { warmupMs, measureMs } = DEFAULT_TIMING;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (minimum: number) => {
      const number = Number(argv[++i]);
      if (!Number.isInteger(number) || number < minimum)
        throw new Error(`${arg} needs an integer ≥ ${minimum}`);
      return number;
    };
    if (arg === '--profile') profile = true;
    else if (arg === '--warmup-ms') warmupMs = value(100);
    else if (arg === '--measure-ms') measureMs = value(100);
    else if (arg === '--rounds') rounds = value(1);
    else if (arg === '--node') {
      node = argv[++i];
      if (!node) throw new Error('--node needs 24 or the path of a node binary');
    } else
      throw new Error(
        `unknown option ${arg} (known: --profile, --warmup-ms N, --measure-ms N, --rounds N, --node 24|PATH)`,
      );
  }
  return { profile, rounds, node, timing: { warmupMs, measureMs } };
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Builds dist/ when it is missing, as `npm run build` would. */
function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  progress('dist/main.js is missing: npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0 || !existsSync(MAIN)) throw new Error('npm run build failed');
}

function compileChildScripts(): void {
  mkdirSync(JS_DIR, { recursive: true });
  for (const name of CHILD_SCRIPTS) {
    const fileName = join(ROOT, 'bench', `${name}.ts`);
    const { outputText } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
      fileName,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2023,
        esModuleInterop: true,
        // enhancers-server.ts declares Nest gateways.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    writeFileSync(join(JS_DIR, `${name}.js`), outputText);
  }
}

async function backgroundLoad(): Promise<number[]> {
  const before = cpuBusyMicros();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = cpuBusyMicros();
  return after.map((busy, cpu) => (busy - before[cpu]) / 10_000);
}

/** Processes this run started and has not stopped yet: stopped by pid on the way out. */
const started = new Set<Spawned>();

async function stop(...processes: Spawned[]): Promise<void> {
  await Promise.all(processes.map((p) => stopProcess(p)));
  for (const p of processes) started.delete(p);
}

function killStarted(): void {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

interface ServerOptions {
  /** Run under `--cpu-prof`, writing bench/results/<profile>. */
  readonly profile?: string;
  /** Open the inspector on this port (the idle scenario forces GCs through it). */
  readonly inspectPort?: number;
}

function nodeFlags({ profile, inspectPort }: ServerOptions): string[] {
  const flags: string[] = [];
  if (profile) flags.push('--cpu-prof', `--cpu-prof-dir=${RESULTS}`, `--cpu-prof-name=${profile}`);
  if (inspectPort !== undefined) flags.push(`--inspect=127.0.0.1:${inspectPort}`);
  return flags;
}

class Bench {
  private readonly jwtSecret = randomBytes(24).toString('hex');
  readonly context: ScenarioContext;

  constructor(
    readonly placement: Placement,
    timing: Timing,
    readonly node: string,
  ) {
    this.context = { node, clientScript: join(JS_DIR, 'load-client.js'), placement, timing };
  }

  private get serverCpu(): number | undefined {
    return this.placement.taskset ? this.placement.serverCpu : undefined;
  }

  /** What Switchboard runs with, apart from PORT, PATH and any Redis settings. */
  switchboardEnv(rateLimit: 'raised' | 'default' = 'raised'): Record<string, string> {
    return {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      JWT_SECRET: this.jwtSecret,
      // Per-connection "connection open/closed" info lines would otherwise be logged 10,000 times.
      LOG_LEVEL: 'warn',
      ...(rateLimit === 'raised' ? { RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT_MAX) } : {}),
    };
  }

  async switchboard(
    name: string,
    options: ServerOptions & {
      rateLimit?: 'raised' | 'default';
      redis?: Record<string, string>;
    } = {},
  ): Promise<Server> {
    const server = await startNodeServer({
      name,
      node: this.node,
      script: MAIN,
      nodeFlags: nodeFlags(options),
      env: (port) => ({
        PATH: process.env.PATH,
        ...this.switchboardEnv(options.rateLimit),
        ...options.redis,
        PORT: String(port),
      }),
      // With Redis, /ready answers 200 only once the bus is connected to it.
      healthPath: options.redis ? '/ready' : '/health',
      cpu: this.serverCpu,
      cwd: ROOT,
    });
    started.add(server);
    return server;
  }

  /** Switchboard with the bench-only gateways of enhancers-server.ts, same environment. */
  async switchboardWithEnhancers(name: string): Promise<Server> {
    const server = await startNodeServer({
      name,
      node: this.node,
      script: join(JS_DIR, 'enhancers-server.js'),
      env: (port) => ({ PATH: process.env.PATH, ...this.switchboardEnv(), PORT: String(port) }),
      healthPath: '/health',
      cpu: this.serverCpu,
      cwd: ROOT,
    });
    started.add(server);
    return server;
  }

  async baseline(name: string, options: ServerOptions = {}): Promise<Server> {
    const server = await startNodeServer({
      name,
      node: this.node,
      script: join(JS_DIR, 'baseline-server.js'),
      args: (port) => [String(port)],
      nodeFlags: nodeFlags(options),
      env: () => ({ PATH: process.env.PATH, NODE_ENV: 'production' }),
      healthPath: '/',
      cpu: this.serverCpu,
      cwd: ROOT,
    });
    started.add(server);
    return server;
  }
}

const urlOf = (server: Server) => `ws://127.0.0.1:${server.port}`;

function echoJob(server: Server, kind: 'echo' | 'json'): RequestReplyJob {
  const path = kind === 'echo' ? '/ws' : '/ws/json';
  return {
    kind,
    url: `${urlOf(server)}${path}`,
    connections: CONNECTIONS,
    inFlight: IN_FLIGHT,
    size: MESSAGE_BYTES,
  };
}

function roomJob(senders: Server, receivers: Server): RoomJob {
  return {
    kind: 'room',
    senderUrl: `${urlOf(senders)}/ws/room/${ROOM_ID}`,
    receiverUrl: `${urlOf(receivers)}/ws/room/${ROOM_ID}`,
    senders: ROOM_SENDERS,
    receivers: ROOM_RECEIVERS,
    inFlightPerSender: ROOM_IN_FLIGHT_PER_SENDER,
    size: MESSAGE_BYTES,
  };
}

/**
 * The room's load on a channel (/ws/subscribe/{channel}): the same senders and receivers, and
 * every sender receives its own messages too.
 */
function channelJob(senders: Server, receivers: Server): RoomJob {
  return {
    ...roomJob(senders, receivers),
    senderUrl: `${urlOf(senders)}/ws/subscribe/${CHANNEL_ID}`,
    receiverUrl: `${urlOf(receivers)}/ws/subscribe/${CHANNEL_ID}`,
    echoesToSender: true,
  };
}

function describeThroughput(name: string, figures: ThroughputFigures): void {
  progress(
    `${name}: ${Math.round(figures.rate).toLocaleString('en-US')}/s, p50 ${figures.p50Ms.toFixed(2)} ms, ` +
      `p99 ${figures.p99Ms.toFixed(2)} ms, ${figures.serverCpuUs.toFixed(2)} µs server CPU each ` +
      `(CPU busy: server ${figures.serverCpuPercent.toFixed(0)} %, client ${figures.clientCpuPercent.toFixed(0)} %; ` +
      `other processes ${figures.otherLoadPercent.toFixed(0)} % on the server CPU, ` +
      `${figures.otherClientLoadPercent.toFixed(0)} % on the client CPU)`,
  );
}

type Rounds = Record<'echo' | 'json' | 'room', Pair<ThroughputFigures[]>>;

const emptyPair = (): Pair<ThroughputFigures[]> => ({ baseline: [], switchboard: [] });

type CrossResult = ThroughputFigures | { readonly skipped: string };

interface BenchRedis {
  readonly env: { readonly REDIS_URL: string; readonly REDIS_PREFIX: string };
  /** The redis-server the bench started, when REDIS_URL is not set. */
  readonly server?: Server;
  readonly description: string;
}

/** REDIS_URL with a prefix of its own, or a private redis-server; a reason when neither exists. */
async function benchRedis(bench: Bench): Promise<BenchRedis | { readonly skipped: string }> {
  const prefix = `switchboard-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const url = process.env.REDIS_URL;
  if (url) {
    const description = `REDIS_URL from the environment, REDIS_PREFIX=${prefix}`;
    return { env: { REDIS_URL: url, REDIS_PREFIX: prefix }, description };
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    return { skipped: 'no REDIS_URL and no redis-server on PATH' };
  }
  const cpu = bench.placement.taskset ? bench.placement.clientCpu : undefined;
  const server = await startRedis(cpu, ROOT);
  started.add(server);
  return {
    env: { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PREFIX: prefix },
    server,
    description: `private redis-server on port ${server.port} (--save "" --appendonly no, on the client CPU), REDIS_PREFIX=${prefix}`,
  };
}

/** Two Switchboard instances on one Redis: senders on A, receivers on B. */
async function crossInstance(bench: Bench): Promise<{ figures: CrossResult; redis: string }> {
  const setup = await benchRedis(bench);
  if ('skipped' in setup) return { figures: setup, redis: setup.skipped };
  const { env, server: redis, description: redisDescription } = setup;
  const a = await bench.switchboard('switchboard A', { redis: env });
  const b = await bench.switchboard('switchboard B', { redis: env });
  try {
    const helpers = redis ? [redis] : [];
    const figures = await measureThroughput(
      'cross-instance',
      roomJob(a, b),
      [a, b],
      bench.context,
      helpers,
    );
    describeThroughput('cross-instance room (A → Redis → B)', figures);
    return { figures, redis: redisDescription };
  } finally {
    await stop(a, b, ...(redis ? [redis] : []));
  }
}

type ChannelHistoryResult =
  | { readonly shown: ShownRound; readonly rounds: Pair<ThroughputFigures[]> }
  | { readonly skipped: string };

/**
 * Channel publications, senders on A and receivers on B, with history (HISTORY_SIZE=100: one Lua
 * script per publication, delivery when it comes back) against HISTORY_SIZE=0 (plain PUBLISH),
 * in the same run: `baseline` is HISTORY_SIZE=0, `switchboard` history on. Rounds alternate.
 */
async function channelHistory(bench: Bench, rounds: number): Promise<ChannelHistoryResult> {
  const setup = await benchRedis(bench);
  if ('skipped' in setup) return setup;
  const servers: Server[] = [];
  const pairOf = async (name: string, historySize: string) => {
    const env = { ...setup.env, HISTORY_SIZE: historySize };
    const a = await bench.switchboard(`switchboard A (${name})`, { redis: env });
    servers.push(a);
    const b = await bench.switchboard(`switchboard B (${name})`, { redis: env });
    servers.push(b);
    return [a, b] as const;
  };
  try {
    const off = await pairOf('HISTORY_SIZE=0', '0');
    const on = await pairOf('HISTORY_SIZE=100', '100');
    const figures: Pair<ThroughputFigures[]> = emptyPair();
    for (let round = 1; round <= rounds; round++) {
      const order = [['baseline', off] as const, ['switchboard', on] as const];
      if (round % 2 === 0) order.reverse();
      for (const [name, [a, b]] of order) {
        const label = name === 'baseline' ? 'HISTORY_SIZE=0' : 'with history';
        const result = await measureThroughput(
          `channel ${label}`,
          channelJob(a, b),
          [a, b],
          bench.context,
          setup.server ? [setup.server] : [],
        );
        describeThroughput(`round ${round}/${rounds}: channel A → B, ${label}`, result);
        figures[name].push(result);
      }
    }
    return { shown: leastDisturbedRound(figures), rounds: figures };
  } finally {
    await stop(...servers, ...(setup.server ? [setup.server] : []));
  }
}

/** What `--profile` profiles: Switchboard's echo and room, JSON too, and the baseline's for comparison. */
const PROFILED = [
  ['switchboard', 'echo'],
  ['switchboard', 'json'],
  ['switchboard', 'room'],
  ['baseline', 'echo'],
  ['baseline', 'room'],
] as const;

/** One server process per profiled scenario, so each .cpuprofile holds that scenario alone. */
async function profileRuns(bench: Bench): Promise<ProfileSummary[]> {
  const summaries: ProfileSummary[] = [];
  for (const [kind, scenario] of PROFILED) {
    const file = `${kind}-${scenario}.cpuprofile`;
    rmSync(join(RESULTS, file), { force: true });
    const server =
      kind === 'switchboard'
        ? await bench.switchboard(`switchboard (profiled)`, { profile: file })
        : await bench.baseline(`baseline (profiled)`, { profile: file });
    let figures: ThroughputFigures;
    try {
      const job = scenario === 'room' ? roomJob(server, server) : echoJob(server, scenario);
      figures = await measureThroughput(scenario, job, [server], bench.context);
      describeThroughput(`${scenario} under --cpu-prof, ${kind}`, figures);
    } finally {
      await stop(server);
    }
    const path = join(RESULTS, file);
    if (!existsSync(path)) throw new Error(`${kind} exited without writing ${file}`);
    const text = summarize(path, 25, figures.monotonicUs);
    writeFileSync(path.replace(/\.cpuprofile$/, '.txt'), `${text}\n`);
    summaries.push({ scenario, server: kind, file: join('bench', 'results', file), text });
  }
  return summaries;
}

/**
 * The same server at the default rate limit, measured twice: paced echo alone, then with four
 * attackers sending the costliest /ws/json payloads at the limit.
 */
async function measureValidationAttack(bench: Bench): Promise<BenchResults['validationAttack']> {
  const server = await bench.switchboard('switchboard (validation attack)', {
    rateLimit: 'default',
  });
  const context = { ...bench.context, timing: ATTACK_TIMING };
  const job = (attackers: number): AttackJob => ({
    kind: 'attack',
    echoUrl: `${urlOf(server)}/ws`,
    echoConnections: ATTACK_ECHO_CONNECTIONS,
    echoIntervalMs: ATTACK_ECHO_INTERVAL_MS,
    attackUrl: `${urlOf(server)}/ws/json`,
    attackers,
    attackIntervalMs: ATTACK_INTERVAL_MS,
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    size: MESSAGE_BYTES,
  });
  try {
    progress(`validation attack: ${ATTACK_ECHO_CONNECTIONS} paced echo connections alone`);
    const quiet = await measureThroughput('echo, no attack', job(0), [server], context);
    describeThroughput('paced echo, no attack', quiet);
    progress(`validation attack: the same with ${ATTACKERS} attackers`);
    const attacked = await measureThroughput('echo, attacked', job(ATTACKERS), [server], context);
    describeThroughput(`paced echo, ${ATTACKERS} attackers`, attacked);
    const p99Ratio = attacked.p99Ms / quiet.p99Ms;
    return {
      attackers: ATTACKERS,
      quiet,
      attacked,
      p99Ratio,
      maxP99Ratio: ATTACK_P99_RATIO,
      passed: p99Ratio <= ATTACK_P99_RATIO,
    };
  } finally {
    await stop(server);
  }
}

/**
 * One process with both bench gateways: the JSON ping closed loop on the bare handler
 * (`baseline`) and on the enhanced one (`switchboard`), back to back in alternating order.
 */
async function measureEnhancers(bench: Bench, rounds: number): Promise<Pair<ThroughputFigures[]>> {
  const server = await bench.switchboardWithEnhancers('switchboard (enhancers)');
  const figures = emptyPair();
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = [
        ['baseline', ENHANCER_PATHS.bare] as const,
        ['switchboard', ENHANCER_PATHS.enhanced] as const,
      ];
      if (round % 2 === 0) order.reverse();
      for (const [side, path] of order) {
        const job: RequestReplyJob = { ...echoJob(server, 'json'), url: `${urlOf(server)}${path}` };
        const measured = await measureThroughput(`json ${path}`, job, [server], bench.context);
        describeThroughput(`round ${round}/${rounds}: json ${path}`, measured);
        figures[side].push(measured);
      }
    }
  } finally {
    await stop(server);
  }
  return figures;
}

async function runAll(options: Options): Promise<BenchResults> {
  const startedAt = Date.now();
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
  const limit = fdLimit();
  if (limit < IDLE_CONNECTIONS + 500) {
    progress(`open-file limit is ${limit}: the ${IDLE_CONNECTIONS}-connection scenario will fail`);
  }
  ensureBuilt();
  compileChildScripts();
  const background = await backgroundLoad();
  progress(
    `load from other processes: ${background.map((p, i) => `CPU${i} ${p.toFixed(0)} %`).join(', ')}`,
  );
  const bench = new Bench(placement, options.timing, node.path);

  // Idle first, each on a fresh process, so RSS "before" is a server that has done nothing else.
  progress(`idle: ${IDLE_CONNECTIONS} connections, baseline`);
  let inspectPort = await freePort();
  let server = await bench.baseline('baseline (idle)', { inspectPort });
  const idleBaseline = await measureIdle(
    server,
    inspectPort,
    `${urlOf(server)}/ws`,
    IDLE_CONNECTIONS,
    MESSAGE_BYTES,
    bench.context,
  );
  await stop(server);
  progress(`idle: ${IDLE_CONNECTIONS} connections, switchboard`);
  inspectPort = await freePort();
  server = await bench.switchboard('switchboard (idle)', { inspectPort });
  const idleSwitchboard = await measureIdle(
    server,
    inspectPort,
    `${urlOf(server)}/ws`,
    IDLE_CONNECTIONS,
    MESSAGE_BYTES,
    bench.context,
  );
  await stop(server);
  for (const [name, idle] of [
    ['baseline', idleBaseline],
    ['switchboard', idleSwitchboard],
  ] as const) {
    progress(
      `idle ${name}: ${idle.rssPerConnectionKiB.toFixed(2)} KiB RSS per connection ` +
        `(${idle.rssPerConnectionNoGcKiB.toFixed(2)} without forcing a GC; JS heap ` +
        `${idle.heapPerConnectionKiB.toFixed(2)} KiB), ` +
        `${idle.opened} open, ${idle.answered} answered${idle.errors.length ? `, errors: ${idle.errors.join('; ')}` : ''}`,
    );
  }

  // Throughput: both servers up (an idle one costs nothing), each scenario measured on both back
  // to back, in alternating order, `rounds` times; the least disturbed round is reported.
  const baseline = await bench.baseline('baseline');
  const switchboard = await bench.switchboard('switchboard');
  const rounds: Rounds = { echo: emptyPair(), json: emptyPair(), room: emptyPair() };
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of ['echo', 'json', 'room'] as const) {
      const order = [['baseline', baseline] as const, ['switchboard', switchboard] as const];
      if (round % 2 === 0) order.reverse();
      for (const [name, target] of order) {
        const job = scenario === 'room' ? roomJob(target, target) : echoJob(target, scenario);
        const figures = await measureThroughput(
          `${scenario} ${name}`,
          job,
          [target],
          bench.context,
        );
        describeThroughput(`round ${round}/${options.rounds}: ${scenario} ${name}`, figures);
        rounds[scenario][name].push(figures);
      }
    }
  }
  await stop(baseline, switchboard);

  const enhancerRounds = await measureEnhancers(bench, options.rounds);

  const cross = await crossInstance(bench);
  const history = await channelHistory(bench, options.rounds);

  progress(`over-limit: burst of ${BURST} with the default rate limit`);
  const limited = await bench.switchboard('switchboard (default rate limit)', {
    rateLimit: 'default',
  });
  const burstJob: BurstJob = {
    kind: 'burst',
    url: `${urlOf(limited)}/ws`,
    count: BURST,
    size: MESSAGE_BYTES,
    quietMs: 500,
  };
  const burst = await measureBurst(burstJob, bench.context);
  await stop(limited);
  const expectedRateLimited = BURST - DEFAULT_RATE_LIMIT;
  const overLimit = {
    ...burst,
    expectedRateLimited,
    passed:
      burst.rateLimited === expectedRateLimited &&
      burst.echoes === DEFAULT_RATE_LIMIT &&
      burst.other === 0,
  };
  progress(
    `over-limit: ${burst.rateLimited} rate-limit errors, ${burst.echoes} echoes, ${burst.other} other`,
  );

  const validationAttack = await measureValidationAttack(bench);

  const profiles = options.profile ? await profileRuns(bench) : [];

  const env = { ...bench.switchboardEnv(), JWT_SECRET: '(random, 48 hex characters)' };
  const partial = {
    generatedAt: new Date(startedAt).toISOString(),
    machine: info,
    placement,
    fdLimit: limit,
    backgroundLoadPercent: background,
    settings: {
      ...options.timing,
      rounds: options.rounds,
      messageBytes: MESSAGE_BYTES,
      switchboardEnv: env,
      redis: cross.redis,
    },
    echo: leastDisturbedRound(rounds.echo),
    json: leastDisturbedRound(rounds.json),
    room: leastDisturbedRound(rounds.room),
    idle: { baseline: idleBaseline, switchboard: idleSwitchboard },
    crossInstance: cross.figures,
    channelHistory: history,
    overLimit,
    validationAttack,
    enhancers: leastDisturbedRound(enhancerRounds),
    enhancerRounds,
  };
  return {
    ...partial,
    durationS: (Date.now() - startedAt) / 1000,
    targets: evaluateTargets({ ...partial, rounds }, IDLE_CONNECTIONS),
    rounds,
    profiles,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  process.chdir(ROOT);
  mkdirSync(RESULTS, { recursive: true });
  const outputs = ['latest.json', 'latest.md'].map((name) => join(RESULTS, name));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killStarted();
      process.exit(130);
    });
  }
  let results: BenchResults;
  try {
    results = await runAll(options);
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
  const profileText = results.profiles
    .map(
      (p) =>
        `\n## CPU profile: ${p.server}, ${p.scenario} (${p.file})\n\n\`\`\`\n${p.text}\n\`\`\`\n`,
    )
    .join('');
  process.stdout.write(`\n${report}${profileText}`);
  writeFileSync(outputs[0], `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(outputs[1], `${report}${profileText}`);
  progress(`wrote bench/results/latest.json and bench/results/latest.md`);
}

main().catch((error: unknown) => {
  killStarted();
  process.stderr.write(`The bench failed: ${String(error)}\n`);
  process.exit(1);
});
