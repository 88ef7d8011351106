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
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS, ROOT } from './child-scripts';
import type { AttackJob, BurstJob, RequestReplyJob, RoomJob } from './client-protocol';
import { prepare, runBenchCommand } from './command';
import { parseOptions, type BenchOptions } from './options';
import { summarize } from './profile-summary';
import { fdLimit, freePort, startRedis, stop, track, type Server } from './processes';
import { describeThroughput, progress } from './progress';
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
  type ThroughputFigures,
  type Timing,
} from './scenarios';
import { urlOf, type Bench } from './servers';

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
    receiverUrls: [`${urlOf(receivers)}/ws/room/${ROOM_ID}`],
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
    receiverUrls: [`${urlOf(receivers)}/ws/subscribe/${CHANNEL_ID}`],
    echoesToSender: true,
  };
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
  const server = track(await startRedis(bench.helperCpu, ROOT));
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

async function runAll(options: BenchOptions): Promise<BenchResults> {
  const startedAt = Date.now();
  const limit = fdLimit();
  if (limit < IDLE_CONNECTIONS + 500) {
    progress(`open-file limit is ${limit}: the ${IDLE_CONNECTIONS}-connection scenario will fail`);
  }
  const {
    bench,
    machine: info,
    placement,
    backgroundLoadPercent: background,
  } = await prepare(options);

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

  const profiles = options.flags.has('--profile') ? await profileRuns(bench) : [];

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
      switchboardEnv: bench.reportedEnv,
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

/** Markdown, with the CPU profiles' summaries after the report when there are any. */
function fullReport(results: BenchResults): string {
  const profileText = results.profiles
    .map(
      (p) =>
        `\n## CPU profile: ${p.server}, ${p.scenario} (${p.file})\n\n\`\`\`\n${p.text}\n\`\`\`\n`,
    )
    .join('');
  return `${markdown(results)}${profileText}`;
}

async function main(): Promise<void> {
  const options = parseOptions(
    process.argv.slice(2),
    { timing: DEFAULT_TIMING, rounds: DEFAULT_ROUNDS },
    ['--profile'],
  );
  await runBenchCommand('latest', () => runAll(options), fullReport);
}

main().catch((error: unknown) => {
  process.stderr.write(`The bench failed: ${String(error)}\n`);
  process.exit(1);
});
