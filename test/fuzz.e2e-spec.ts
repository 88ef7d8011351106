import fc from 'fast-check';
import request from 'supertest';
import { SessionExpiry } from '../src/auth/session-expiry';
import { TokenSigner } from '../src/auth/token-signer';
import { Bus } from '../src/bus/bus';
import { Clock, SystemClock } from '../src/common/clock';
import { ConnectionRegistry } from '../src/connections/connection-registry';
import { MessageThrottles } from '../src/limits/message-throttles';
import { RoomRegistry } from '../src/rooms/room-registry';
import type { RunningApp } from './support/app';
import { fuzzFrames } from './support/fuzz-frames';
import type { TokenKind } from './support/fuzz-oracle';
import {
  FUZZ_ENDPOINTS,
  FuzzCoverage,
  runFuzzSession,
  type FuzzEndpoint,
  type FuzzTarget,
} from './support/fuzz-sessions';
import {
  channelMessage,
  expectNothingElse,
  nextJson,
  reply,
  sendRequest,
} from './support/json-client';
import { rawUpgrade } from './support/raw-upgrade';
import {
  captureOutput,
  watchCrashes,
  type CrashWatch,
  type OutputCapture,
} from './support/runtime';
import { RestartableApp } from './support/restartable-app';
import { REFUSAL_REASONS, upgradeCase, wildTarget } from './support/upgrade-paths';
import { waitForValue } from './support/wait';
import { TestClients } from './support/ws-client';

/**
 * Operations contract: bad input never crashes the process. Property-based: fast-check throws
 * random frames at every endpoint and random targets at the upgrade, and an executable model of
 * the wire contract (support/fuzz-oracle.ts, support/upgrade-paths.ts) says what each must get:
 * the exact replies, the documented error frame, or the documented close. Afterwards the server
 * is still up and every endpoint still serves a well-behaved client.
 *
 * Deterministic: fixed seeds and run counts. On a failure fast-check prints the seed, the path
 * of the shrunk counterexample and the counterexample itself; to replay it, pass
 * `{ seed, path, endOnFailure: true }` to the failing `fc.assert`.
 */

const SEED = 20_240_611;
const MAX_MESSAGE_BYTES = 1024;
const SECRET = 'fuzz-secret';
const SUBJECT = 'fuzzer';
const NAME = 'Fuzzer';
/** Per wait; generous because a loaded 2-core CI machine runs other suites alongside. */
const WAIT_MS = 5000;
/** Ceiling for one fc.assert, shrinking included, so a failure cannot run for minutes. */
const PROPERTY_BUDGET_MS = 40_000;

class OffsetClock extends Clock {
  constructor(private readonly offsetMs: number) {
    super();
  }
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

const signer = new TokenSigner({ secret: SECRET }, new SystemClock());
const expOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;

const sessionToken = signer.sign({ sub: SUBJECT, name: NAME }, 3600);
const renewal = signer.sign({ sub: SUBJECT, name: 'Renamed' }, 7200);
const othersToken = signer.sign({ sub: 'alice' }, 3600);
const expiredToken = new TokenSigner({ secret: SECRET }, new OffsetClock(-3_600_000)).sign(
  { sub: SUBJECT },
  60,
);
const foreignToken = new TokenSigner({ secret: 'another-secret' }, new SystemClock()).sign(
  { sub: SUBJECT },
  3600,
);

/** What each token a refresh may carry is to the sessions' subject. */
const REFRESH_TOKENS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  [renewal, { kind: 'same-subject', exp: expOf(renewal) }],
  [othersToken, { kind: 'other-subject' }],
  [expiredToken, { kind: 'expired' }],
]);
const TOKEN_POOL = [...REFRESH_TOKENS.keys(), foreignToken];

const BASE_ENV = {
  MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
  JWT_SECRET: SECRET,
  // No heartbeat during the test: its JSON pings would be frames the model does not expect.
  HEARTBEAT_INTERVAL_MS: '3600000',
  // The model predicts the replies without positions; test/history.e2e-spec.ts covers those.
  HISTORY_SIZE: '0',
};

/** Uncaught exceptions, unhandled rejections and error logs, watched for the whole file. */
let crashes: CrashWatch;
let output: OutputCapture;

beforeAll(() => {
  crashes = watchCrashes();
  output = captureOutput();
});

afterAll(() => {
  output.restore();
  crashes.stop();
});

/** Set when a run fails: the next one first drops whatever sockets the failure left behind. */
let lastRunFailed = false;

/**
 * Runs one property run on `app`, failing it when the process crashes or the app logs an error
 * while it runs, on top of whatever `run` itself checks. A crash fails the run at once rather
 * than after the waits for answers that will never come, and the next run gets a fresh app, so
 * that fast-check can shrink a crashing input quickly. (The crashed run is left to time out in
 * the background.)
 */
async function guarded(app: RestartableApp, run: () => Promise<void>): Promise<void> {
  if (app.poisoned) {
    await app.restart();
  } else if (lastRunFailed) {
    app.terminateAll();
  }
  lastRunFailed = false;
  const logsBefore = output.lines.length;
  let unsubscribe = () => {};
  const crashed = new Promise<never>((_resolve, reject) => {
    unsubscribe = crashes.onCrash((report) => {
      app.poisoned = true;
      reject(new Error(`The process crashed: ${report}`));
    });
  });
  try {
    await Promise.race([run(), crashed]);
    const logs = output.lines.slice(logsBefore);
    if (logs.length > 0) throw new Error(`The app logged errors:\n${logs.join('\n')}`);
  } catch (error) {
    lastRunFailed = true;
    throw error;
  } finally {
    unsubscribe();
  }
}

function targetOf(running: RunningApp): FuzzTarget {
  return {
    running,
    maxBytes: MAX_MESSAGE_BYTES,
    sessionToken,
    name: NAME,
    tokens: REFRESH_TOKENS,
    waitMs: WAIT_MS,
  };
}

/** fc.assert with a fixed seed and a time budget that covers shrinking too. */
const assertProperty = <T extends [unknown, ...unknown[]]>(
  property: fc.IAsyncPropertyWithHooks<T>,
  numRuns: number,
  seed = SEED,
) =>
  fc.assert(property, {
    seed,
    numRuns,
    plugins: [fc.interruptAfterTimeLimit(PROPERTY_BUDGET_MS, { failOnInterrupt: true })],
  });

interface FrameRuns {
  /** Frames per run: messages, plus one frame of any kind in about half of the runs. */
  readonly minMessages: number;
  readonly maxMessages: number;
  /**
   * When set, one run in five sends up to this many messages at once instead, often more than
   * the server queues per connection before it pauses the socket (64), so pausing and resuming
   * runs. (No lower bound, so that fast-check can shrink a failing long run.)
   */
  readonly longRuns?: number;
  readonly runs: number;
  /** Runs may wait for each answer before the next message, or send everything at once. */
  readonly paced: boolean;
  readonly rateLimited: boolean;
}

/**
 * Runs `runs` fuzz sessions on `endpoint`, each checked against the contract, and returns what
 * they exercised. Every endpoint has its own seed, so that they do not all get the same frames.
 */
async function fuzzEndpoint(
  app: RestartableApp,
  endpoint: FuzzEndpoint,
  { minMessages, maxMessages, longRuns, runs, paced, rateLimited }: FrameRuns,
): Promise<FuzzCoverage> {
  const coverage = new FuzzCoverage();
  const options = {
    maxBytes: MAX_MESSAGE_BYTES,
    json: endpoint.startsWith('json'),
    tokens: TOKEN_POOL,
  };
  const short = fc.record({
    frames: fuzzFrames(options, { minLength: minMessages, maxLength: maxMessages }),
    paced: paced ? fc.boolean() : fc.constant(false),
  });
  // Long runs are always bursts: their point is the queue that builds up on the server.
  const runArbitrary =
    longRuns === undefined
      ? short
      : fc.oneof(
          // Cross-shrinking lets a failing long run shrink into a short one.
          { withCrossShrink: true },
          { weight: 4, arbitrary: short },
          {
            weight: 1,
            arbitrary: fc.record({
              frames: fuzzFrames(options, { minLength: 0, maxLength: longRuns }),
              paced: fc.constant(false),
            }),
          },
        );
  const property = fc.asyncProperty(runArbitrary, (run) =>
    guarded(app, () =>
      runFuzzSession(
        targetOf(app.running),
        endpoint,
        run.frames,
        { paced: run.paced, rateLimited },
        coverage,
      ),
    ),
  );
  await assertProperty(property, runs, SEED + FUZZ_ENDPOINTS.indexOf(endpoint));
  return coverage;
}

/** The closes every endpoint's runs must have produced, so the generators stay effective. */
const EVERY_CLOSE = [1003, 1007, 1009];

/** JSON answers the runs must have produced: every branch of the protocol. */
const JSON_ANSWERS = [
  'pong',
  'subscribed',
  'unsubscribed',
  'published',
  'message',
  'error: Invalid JSON',
  'error: Validation failed',
  'error: Unknown type',
];
const REFRESH_ANSWERS: Record<'json' | 'json-authenticated', string[]> = {
  json: ['error: Not authenticated'],
  'json-authenticated': [
    'refreshed',
    'error: Token invalid',
    'error: Token expired',
    'error: Token subject does not match',
  ],
};

/**
 * Fails when the runs missed a close code, a JSON answer or (with `rateLimited`) a refusal: a
 * generator that stopped producing some input would otherwise leave a property passing while it
 * no longer tests that input. The seeds are fixed, so this is deterministic.
 */
function expectCoverage(endpoint: FuzzEndpoint, coverage: FuzzCoverage, rateLimited: boolean) {
  const missing = EVERY_CLOSE.filter((code) => !coverage.closes.has(code)).map(String);
  if (!rateLimited && (endpoint === 'json' || endpoint === 'json-authenticated')) {
    const answers = [...JSON_ANSWERS, ...REFRESH_ANSWERS[endpoint]];
    missing.push(...answers.filter((answer) => !coverage.answers.has(answer)));
  }
  if (rateLimited && coverage.refused === 0) missing.push('a rate-limit refusal');
  if (missing.length > 0) {
    throw new Error(
      `The ${endpoint} runs never produced ${missing.join(', ')}; ${String(coverage)}`,
    );
  }
}

/** Every state the server keeps per connection, which must be empty once every socket closed. */
async function expectNoStateLeft(running: RunningApp): Promise<void> {
  const counters: [string, () => number][] = [
    ['open connections', () => running.app.get(ConnectionRegistry).size],
    ['rooms', () => running.app.get(RoomRegistry).size],
    ['room members', () => running.app.get(RoomRegistry).memberCount],
    ['bus topics', () => running.app.get(Bus).topicCount],
    ['rate-limit records', () => running.app.get(MessageThrottles).size],
    ['session expiry timers', () => running.app.get(SessionExpiry).size],
  ];
  for (const [what, read] of counters) await waitForValue(read, 0, what, WAIT_MS);
}

/** Proves the server is still up and every endpoint still serves a well-behaved client. */
async function expectEveryEndpointWorks(running: RunningApp): Promise<void> {
  const health = await request(running.server).get('/health');
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });

  const clients = new TestClients(() => running.wsUrl);
  try {
    const echo = await clients.open('/ws');
    echo.send('hello');
    expect(await echo.nextText()).toBe('Echo: hello');

    const [alice, bob] = await clients.openAll('/ws/alice', '/ws/bob');
    alice.send('hi all');
    expect(await alice.nextText()).toBe('Client alice: hi all');
    expect(await bob.nextText()).toBe('Client alice: hi all');

    const [roomA, roomB] = await clients.openAll('/ws/room/after', '/ws/room/after');
    roomA.send('to the room');
    expect(await roomB.nextText()).toBe('to the room');
    roomB.send('and back');
    expect(await roomA.nextText()).toBe('and back');

    const [subA, subB] = await clients.openAll('/ws/subscribe/after', '/ws/subscribe/after');
    subA.send('news');
    expect(await subA.nextText()).toBe('news');
    expect(await subB.nextText()).toBe('news');

    const secure = await clients.open(`/ws/secure?token=${sessionToken}`);
    secure.send('hi');
    expect(await secure.nextText()).toBe(`Hello ${NAME}: hi`);

    const json = await clients.open('/ws/json');
    sendRequest(json, 'ping', undefined, 1);
    expect(await nextJson(json)).toEqual(reply('pong', {}, 1));
    sendRequest(json, 'subscribe', { channel: 'after' }, 2);
    expect(await nextJson(json)).toEqual(reply('subscribed', { channel: 'after' }, 2));
    sendRequest(json, 'publish', { channel: 'after', message: { n: 1 } }, 3);
    expect(await nextJson(json)).toEqual(channelMessage('after', { n: 1 }));
    expect(await nextJson(json)).toEqual(reply('published', { channel: 'after' }, 3));
    expect(await subA.nextText()).toBe('{"n":1}');
    expect(await subB.nextText()).toBe('{"n":1}');
    sendRequest(json, 'unsubscribe', { channel: 'after' }, 4);
    expect(await nextJson(json)).toEqual(reply('unsubscribed', { channel: 'after' }, 4));
    await expectNothingElse(json);
  } finally {
    await clients.closeAll();
  }
  await expectNoStateLeft(running);
}

describe('bad input never crashes the process', () => {
  // A limit no run reaches, so every frame reaches its handler.
  const app = new RestartableApp({ ...BASE_ENV, RATE_LIMIT_MAX: '1000000000' });

  beforeAll(() => app.start());
  afterAll(() => app.close());

  describe('random frames', () => {
    it.each(FUZZ_ENDPOINTS)(
      '%s answers each one with its reply, an error frame or the documented close',
      async (endpoint) => {
        const json = endpoint.startsWith('json');
        const coverage = await fuzzEndpoint(app, endpoint, {
          minMessages: 0,
          maxMessages: json ? 16 : 10,
          longRuns: 100,
          runs: json ? 150 : 60,
          paced: true,
          rateLimited: false,
        });
        expectCoverage(endpoint, coverage, false);
      },
      60_000,
    );
  });

  describe('random upgrade targets', () => {
    it('routes every escaped path by its decoded segments, then applies the id and token rules', async () => {
      const tokens = {
        valid: new Map([
          [sessionToken, SUBJECT],
          [othersToken, 'alice'],
        ]),
        expired: [expiredToken],
        invalid: [foreignToken, 'not.a.jwt'],
      };
      await assertProperty(
        fc.asyncProperty(upgradeCase(tokens), (upgrade) =>
          guarded(app, async () => {
            const { port } = new URL(app.running.httpUrl);
            expect(await rawUpgrade(Number(port), upgrade.target, WAIT_MS)).toEqual(
              upgrade.expected,
            );
          }),
        ),
        300,
      );
    }, 60_000);

    it('answers any request target with an HTTP status or a documented close', async () => {
      await assertProperty(
        fc.asyncProperty(wildTarget, (target) =>
          guarded(app, async () => {
            const { port } = new URL(app.running.httpUrl);
            const outcome = await rawUpgrade(Number(port), target, WAIT_MS);
            if (outcome.kind === 'http') {
              expect([400, 404, 431]).toContain(outcome.status);
            } else if (outcome.code !== 1000) {
              expect(outcome.code).toBe(1008);
              expect(REFUSAL_REASONS).toContain(outcome.reason);
            }
          }),
        ),
        150,
      );
    }, 60_000);
  });

  it('is still up afterwards: /health answers 200 and every endpoint serves a good client', async () => {
    await expectEveryEndpointWorks(app.running);
  });
});

describe('bad input with the default rate limit', () => {
  const app = new RestartableApp(BASE_ENV);

  beforeAll(() => app.start());
  afterAll(() => app.close());

  // Bursts longer than the default limit (10 per second), so that refusals mix with replies.
  it.each(FUZZ_ENDPOINTS)(
    '%s answers each frame of a burst with its reply, the rate-limit error or the documented close',
    async (endpoint) => {
      const coverage = await fuzzEndpoint(app, endpoint, {
        minMessages: 5,
        maxMessages: 30,
        runs: 40,
        paced: false,
        rateLimited: true,
      });
      expectCoverage(endpoint, coverage, true);
    },
    60_000,
  );

  it('is still up afterwards: /health answers 200 and every endpoint serves a good client', async () => {
    await expectEveryEndpointWorks(app.running);
  });
});

describe('the whole file', () => {
  it('saw no uncaught exception, no unhandled rejection and no error log', () => {
    expect(crashes.crashes).toEqual([]);
    expect(output.lines).toEqual([]);
  });
});
