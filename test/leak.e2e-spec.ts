import { SessionExpiry } from '../src/auth/session-expiry';
import { TokenSigner } from '../src/auth/token-signer';
import { Bus } from '../src/bus/bus';
import { SystemClock } from '../src/common/clock';
import { ConnectionRegistry } from '../src/connections/connection-registry';
import { MessageThrottles } from '../src/limits/message-throttles';
import { RoomRegistry } from '../src/rooms/room-registry';
import { useApp, type RunningApp } from './support/app';
import { jsonIdOf, TestClient } from './support/ws-client';
import { exposeGc, heapUsedAfterGc, watchCrashes, type CrashWatch } from './support/runtime';
import { waitForValue } from './support/wait';

/**
 * Operations contract: no leaks. Thousands of connect/join/send/close cycles over every
 * endpoint, in parallel batches, closed politely and abruptly, leave every piece of
 * per-connection state at zero and the heap near where it started.
 */

const SECRET = 'leak-secret';
/** Cycles of the measured churn, and of the warm-up that runs before the baseline is taken. */
const CYCLES = 2000;
const WARM_UP_CYCLES = 600;
/** Cycles in flight at once. */
const BATCH = 50;
/**
 * Heap growth allowed between the warm-up baseline and the end of the churn, both after GC.
 * Calibrated on this suite: the churn itself leaves about 1 MB (JIT code and caches; the figure
 * stays flat when the churn is repeated), while keeping every closed server-side socket alive
 * costs about 5 KB per cycle, 10 MB here. The bound sits between the two.
 */
const MAX_HEAP_GROWTH_BYTES = 6 * 1024 * 1024;
/** Per wait; generous because a loaded 2-core machine may run other suites alongside. */
const WAIT_MS = 10_000;

const signer = new TokenSigner({ secret: SECRET }, new SystemClock());
/** Long enough that no session expires during the test: expiry must not be what frees them. */
const token = (sub: string) => signer.sign({ sub, name: `N${sub}` }, 3600);

type Ending = 'polite' | 'abrupt';

const request = (type: string, payload: unknown, id: string) =>
  JSON.stringify({ type, payload, id });

async function end(ending: Ending, ...sockets: TestClient[]): Promise<void> {
  if (ending === 'abrupt') {
    for (const socket of sockets) socket.terminate();
    return;
  }
  await Promise.all(sockets.map((socket) => socket.close(WAIT_MS, 1000)));
}

/** Opens `path` on the app at `base` (its ws:// URL). */
function open(base: string, path: string): Promise<TestClient> {
  return TestClient.open(`${base}${path}`, WAIT_MS);
}

/** Waits for `text` among the frames of `socket`; frames of other cycles may come in between. */
const receive = (socket: TestClient, text: string) =>
  socket.until(() => socket.texts.includes(text), JSON.stringify(text), WAIT_MS);

const reply = (socket: TestClient, id: string) =>
  socket.until(() => socket.texts.some((text) => jsonIdOf(text) === id), `reply ${id}`, WAIT_MS);

/**
 * One connect/join/send/close cycle per kind; `i` makes ids unique or, modulo a few, shared
 * between cycles running at the same time.
 */
const CYCLE_KINDS: Record<string, (base: string, i: number, ending: Ending) => Promise<void>> = {
  async echo(base, i, ending) {
    const socket = await open(base, '/ws');
    socket.sendText(`m${i}`);
    await receive(socket, `Echo: m${i}`);
    await end(ending, socket);
  },

  async chat(base, i, ending) {
    const socket = await open(base, `/ws/u${i}`);
    socket.sendText('hi');
    await receive(socket, `Client u${i}: hi`);
    await end(ending, socket);
  },

  async sharedRoom(base, i, ending) {
    const path = `/ws/room/shared-${i % 4}`;
    const a = await open(base, path);
    const b = await open(base, path);
    a.sendText(`r${i}`);
    await receive(b, `r${i}`);
    await end(ending, a, b);
  },

  async uniqueRoom(base, i, ending) {
    const path = `/ws/room/unique-${i}`;
    const a = await open(base, path);
    const b = await open(base, path);
    b.sendText(`r${i}`);
    await receive(a, `r${i}`);
    await end(ending, a, b);
  },

  async subscribe(base, i, ending) {
    const channel = i % 2 === 0 ? `shared-${i % 3}` : `unique-${i}`;
    const socket = await open(base, `/ws/subscribe/${channel}`);
    socket.sendText(`s${i}`);
    await receive(socket, `s${i}`);
    await end(ending, socket);
  },

  async json(base, i, ending) {
    const channel = i % 2 === 0 ? `shared-${i % 5}` : `unique-${i}`;
    const socket = await open(base, '/ws/json');
    socket.sendText(request('subscribe', { channel }, `sub${i}`));
    await reply(socket, `sub${i}`);
    socket.sendText(request('publish', { channel, message: { i } }, `pub${i}`));
    await reply(socket, `pub${i}`);
    if (i % 3 === 0) {
      socket.sendText(request('unsubscribe', { channel }, `unsub${i}`));
      await reply(socket, `unsub${i}`);
    }
    await end(ending, socket);
  },

  async secure(base, i, ending) {
    const socket = await open(base, `/ws/secure?token=${token(`u${i}`)}`);
    socket.sendText('hi');
    await receive(socket, `Hello Nu${i}: hi`);
    await end(ending, socket);
  },

  /** Authenticated /ws/json with a refresh, which re-arms the session's expiry timer. */
  async refresh(base, i, ending) {
    const socket = await open(base, `/ws/json?token=${token(`u${i}`)}`);
    socket.sendText(request('refresh', { token: token(`u${i}`) }, `ref${i}`));
    await reply(socket, `ref${i}`);
    socket.sendText(request('subscribe', { channel: `shared-${i % 5}` }, `sub${i}`));
    await reply(socket, `sub${i}`);
    await end(ending, socket);
  },

  /** Sockets the server refuses after the upgrade (bad id, missing or bad token): 1008. */
  async refused(base, i) {
    const paths = [
      '/ws/room/bad%20id',
      '/ws/secure',
      '/ws/json?token=forged',
      `/ws/x?token=${token('y')}`,
    ];
    const socket = await open(base, paths[i % paths.length]);
    const closed = await socket.waitClosed(WAIT_MS);
    if (closed.code !== 1008) throw new Error(`Expected 1008, got ${closed.code}`);
  },

  /** Requests still in flight when the client drops the connection. */
  async dropped(base, i) {
    const socket = await open(base, i % 2 === 0 ? '/ws/json' : `/ws/room/shared-${i % 4}`);
    for (let n = 0; n < 5; n++) {
      socket.sendText(request('subscribe', { channel: `shared-${(i + n) % 5}` }, `d${n}`));
    }
    socket.terminate();
  },
};

const KINDS = Object.values(CYCLE_KINDS);

/**
 * Runs cycles `from` to `to` (exclusive) in parallel batches. Every cycle of a batch settles
 * before the next batch starts, and the first failure is thrown once its batch has settled.
 */
async function churn(running: RunningApp, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, to); i++) {
      // Kinds and endings rotate independently, so each kind ends both ways.
      const ending: Ending = Math.floor(i / KINDS.length) % 2 === 0 ? 'polite' : 'abrupt';
      batch.push(KINDS[i % KINDS.length](running.wsUrl, i, ending));
    }
    const failed = (await Promise.allSettled(batch)).filter(
      (result) => result.status === 'rejected',
    );
    if (failed.length > 0) {
      throw new Error(
        `${failed.length} cycles of ${from}-${to} failed; the first: ${String(failed[0].reason)}`,
      );
    }
  }
}

describe('no leaks under connection churn', () => {
  let crashes: CrashWatch;

  // Declared around useApp so that the watch covers the app's start and close.
  beforeAll(() => {
    crashes = watchCrashes();
  });
  const fixture = useApp({
    JWT_SECRET: SECRET,
    // No sweep during the test: the heartbeat must not be what cleans up.
    HEARTBEAT_INTERVAL_MS: '3600000',
  });
  afterAll(() => crashes?.stop());

  /** Waits until every piece of per-connection state is back to zero, naming any that is not. */
  async function expectAllStateReleased(): Promise<void> {
    const { app } = fixture.running;
    const counters: [string, () => number][] = [
      ['open connections', () => app.get(ConnectionRegistry).size],
      ['rooms and channels with members', () => app.get(RoomRegistry).size],
      ['members of rooms and channels', () => app.get(RoomRegistry).memberCount],
      ['bus topics', () => app.get(Bus).topicCount],
      ['rate-limit records', () => app.get(MessageThrottles).size],
      ['session expiry timers', () => app.get(SessionExpiry).size],
    ];
    for (const [what, read] of counters) await waitForValue(read, 0, what, WAIT_MS);
    await waitForNoTcpConnection();
  }

  /** The HTTP server's count of open TCP connections (upgraded sockets included) reaches 0. */
  async function waitForNoTcpConnection(): Promise<void> {
    const count = () =>
      new Promise<number>((resolve, reject) =>
        fixture.running.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
    const deadline = Date.now() + WAIT_MS;
    let sockets = await count();
    while (sockets > 0) {
      if (Date.now() >= deadline) {
        throw new Error(`${sockets} TCP connections still open after ${WAIT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      sockets = await count();
    }
  }

  it(`returns every registry, timer and socket to zero, and the heap near its baseline, after ${CYCLES} cycles`, async () => {
    // `gc` comes from switching --expose-gc on at runtime (v8.setFlagsFromString) and taking the
    // global of a fresh V8 context (vm.runInNewContext('gc')); no Node flag is needed.
    const gc = exposeGc();

    await churn(fixture.running, 0, WARM_UP_CYCLES);
    await expectAllStateReleased();
    const baseline = await heapUsedAfterGc(gc);

    const started = Date.now();
    await churn(fixture.running, WARM_UP_CYCLES, WARM_UP_CYCLES + CYCLES);
    const churnMs = Date.now() - started;
    await expectAllStateReleased();
    const after = await heapUsedAfterGc(gc);

    const growth = after - baseline;
    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;
    const summary = `heap ${mb(baseline)} MB -> ${mb(after)} MB (${mb(growth)} MB, ${Math.round(
      growth / CYCLES,
    )} B per cycle) over ${CYCLES} cycles in ${churnMs} ms`;
    if (growth >= MAX_HEAP_GROWTH_BYTES) {
      throw new Error(`The heap grew past ${mb(MAX_HEAP_GROWTH_BYTES)} MB: ${summary}`);
    }

    // Still serving after the churn.
    const socket = await TestClient.open(`${fixture.running.wsUrl}/ws`, WAIT_MS);
    socket.sendText('still here');
    await receive(socket, 'Echo: still here');
    await socket.close(WAIT_MS, 1000);
    expect(crashes.crashes).toEqual([]);
  }, 60_000);
});
