import { Logger } from '@nestjs/common';
import type { RunningApp } from '../support/app';
import { startApp } from '../support/app';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis, type RedisObserver } from '../support/redis-deployment';
import { waitUntil } from '../support/wait';
import { TestClients, type TestClient } from '../support/ws-client';
import {
  busOf,
  expectDistinctInstances,
  httpStatus,
  instanceIdOf,
  redisEnv,
  startInstances,
  waitForReadiness,
} from './instances';

/** Contract: /ready turns 503 this soon after Redis goes away... */
const NOT_READY_WITHIN_MS = 3000;
/** ...and delivery across instances resumes this soon after it returns. */
const RESUMED_WITHIN_MS = 5000;
/** Redis stays away this long: enough for the reconnection backoff to reach its 1 s cap. */
const OUTAGE_MS = 2500;

/**
 * Redis going away and coming back while two instances carry traffic: a redis-server this file
 * owns, or every node of a Redis Cluster, killed by pid with SIGKILL (restarted on the same
 * ports, empty) or frozen with SIGSTOP.
 */
describeWithEachRedis(
  'Redis outage',
  (redis) => {
    const prefix = uniquePrefix();
    let a: RunningApp;
    let b: RunningApp;
    let observer: RedisObserver;
    const onA = new TestClients(() => a.wsUrl);
    const onB = new TestClients(() => b.wsUrl);
    let warn: jest.SpyInstance;
    let log: jest.SpyInstance;
    const channel = (topic: string) => redis().channel(prefix, topic);

    /** Lines a RedisBus logged through `spy` that start with `start`. */
    const busLines = (spy: jest.SpyInstance, start: string): string[] =>
      spy.mock.calls
        .filter((_, i) => (spy.mock.contexts[i] as { context?: string }).context === 'RedisBus')
        .map(([line]) => String(line))
        .filter((line) => line.startsWith(start));

    beforeAll(async () => {
      warn = jest.spyOn(Logger.prototype, 'warn');
      log = jest.spyOn(Logger.prototype, 'log');
      [a, b] = await startInstances(2, redisEnv(redis().address, prefix));
      expectDistinctInstances(a, b);
      observer = redis().observe();
      await Promise.all([waitForReadiness(a, 200, 5000), waitForReadiness(b, 200, 5000)]);
    });

    afterEach(async () => {
      await Promise.all([onA.closeAll(), onB.closeAll()]);
    });

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      observer?.disconnect();
      jest.restoreAllMocks();
    });

    it('boots on a reachable Redis without a warning or a "restored" line', () => {
      // Both instances are ready (beforeAll): their link came up once, never seen as lost.
      expect(busLines(warn, '')).toEqual([]);
      expect(busLines(log, 'Redis connection restored')).toEqual([]);
    });

    it('keeps local delivery, answers 503 within 3 s, counts drops, and resumes within 5 s of Redis returning', async () => {
      const [a1, a2] = await onA.openAll('/ws/room/live', '/ws/room/live');
      const [b1, bLeaving] = await onB.openAll('/ws/room/live', '/ws/room/left-during-outage');
      await observer.waitForSubscribers(channel('room:live'), 2);
      await observer.waitForSubscribers(channel('room:left-during-outage'), 1);

      // a1 talks to room "live" throughout: m0, m1, … every 5 ms.
      let sent = 0;
      const pump = setInterval(() => a1.send(`m${sent++}`), 5);
      const a2Got: string[] = [];
      const b1Got: string[] = [];
      try {
        await readUntil(b1, b1Got, (text) => text === 'm5');
        const droppedBefore = busOf(a).dropped;
        const warningsBefore = busLines(warn, '').length;
        const restoredBefore = busLines(log, 'Redis connection restored').length;

        const killedAt = Date.now();
        await redis().kill();
        await waitForReadiness(a, 503, NOT_READY_WITHIN_MS);
        const notReadyAfterMs = Date.now() - killedAt;
        await waitForReadiness(b, 503, NOT_READY_WITHIN_MS - notReadyAfterMs);
        expect(await httpStatus(a, '/health')).toBe(200);

        // Local delivery goes on while Redis is away: a2 gets what a1 sends now, for the whole
        // outage, which lasts long enough for the reconnection backoff to reach its cap.
        const sentInOutage = sent;
        await readUntil(a2, a2Got, (text) => text === `m${sentInOutage + 10}`);
        await readUntil(a2, a2Got, () => Date.now() - killedAt >= OUTAGE_MS);
        expect(await httpStatus(b, '/ready')).toBe(503);
        expect(busOf(a).dropped).toBeGreaterThan(droppedBefore);

        // Membership changes while Redis is away, to be settled when it is back.
        await bLeaving.close();
        const [aJoining] = await onA.openAll('/ws/room/joined-during-outage');
        const [bJoining] = await onB.openAll('/ws/room/joined-during-outage');

        const sentBeforeRestart = sent;
        // Back once it serves again (a cluster: healthy, its nodes having formed it again).
        await redis().restart();
        const restartedAt = Date.now();
        const sentAfterRestart = sent;
        await readUntil(b1, b1Got, (text) => Number(text.slice(1)) >= sentAfterRestart);
        const resumedAfterMs = Date.now() - restartedAt;
        await waitForReadiness(a, 200, RESUMED_WITHIN_MS - (Date.now() - restartedAt));
        await waitForReadiness(b, 200, RESUMED_WITHIN_MS - (Date.now() - restartedAt));
        await observer.waitForSubscribers(
          channel('room:joined-during-outage'),
          2,
          RESUMED_WITHIN_MS - (Date.now() - restartedAt),
        );
        aJoining.send('joined while Redis was away');
        expect(await bJoining.nextText()).toBe('joined while Redis was away');
        // Left while Redis was away: not resubscribed.
        expect(await observer.subscriberCount(channel('room:left-during-outage'))).toBe(0);
        expect(resumedAfterMs).toBeLessThan(RESUMED_WITHIN_MS);

        clearInterval(pump);
        a1.send('end');
        await readUntil(a2, a2Got, (text) => text === 'end');
        await readUntil(b1, b1Got, (text) => text === 'end');

        const all = Array.from({ length: sent }, (_, i) => `m${i}`);
        // Locally nothing was lost, and everything came in order.
        expect(a2Got).toEqual([...all, 'end']);
        // Across instances: in order, never twice, and what was sent while Redis was away is
        // gone for good (nothing was queued and sent late).
        const numbers = b1Got.slice(0, -1).map((text) => Number(text.slice(1)));
        expect(numbers).toEqual([...new Set(numbers)].sort((x, y) => x - y));
        const sentWhileAway = (n: number) => n >= sentInOutage && n < sentBeforeRestart;
        expect(numbers.filter(sentWhileAway)).toEqual([]);

        // One warning per instance for the whole outage, and one line each on recovery.
        const outageWarnings = busLines(warn, '').slice(warningsBefore);
        expect(outageWarnings).toHaveLength(2);
        expect(outageWarnings.every((line) => line.startsWith('Lost the Redis connection'))).toBe(
          true,
        );
        expect(busLines(log, 'Redis connection restored').slice(restoredBefore)).toHaveLength(2);

        console.info(
          `Redis outage timings: /ready 503 ${notReadyAfterMs} ms after the kill; ` +
            `cross-instance delivery back ${resumedAfterMs} ms after the restart`,
        );
      } finally {
        clearInterval(pump);
      }
    });

    it('notices a frozen Redis within 3 s and recovers when it runs again', async () => {
      const [a1] = await onA.openAll('/ws/room/frozen');
      const [b1] = await onB.openAll('/ws/room/frozen');
      await observer.waitForSubscribers(channel('room:frozen'), 2);

      const instances = [a, b].map(instanceIdOf);
      const connected = await Promise.all(instances.map((id) => observer.connectionNamesOf(id)));

      // SIGSTOP: the sockets stay open and nothing answers, as in a network partition. Only the
      // bus's own heartbeat can tell.
      const frozenAt = Date.now();
      redis().pause();
      try {
        await waitForReadiness(a, 503, NOT_READY_WITHIN_MS);
        const notReadyAfterMs = Date.now() - frozenAt;
        await waitForReadiness(b, 503, NOT_READY_WITHIN_MS - notReadyAfterMs);
        console.info(`Frozen Redis: /ready 503 ${notReadyAfterMs} ms after SIGSTOP`);
      } finally {
        redis().resume();
      }
      const resumedAt = Date.now();
      await waitForReadiness(a, 200, RESUMED_WITHIN_MS);
      await waitForReadiness(b, 200, RESUMED_WITHIN_MS - (Date.now() - resumedAt));
      // The frozen connections are gone: each instance has the connections it had (one
      // publisher and one subscriber on one Redis), and the channel subscribed.
      for (const [i, instance] of instances.entries()) {
        await waitUntil(
          () => observer.connectionNamesOf(instance),
          (names) => names.join() === connected[i].join(),
          `the connections of ${instance} to be ${connected[i].join()} again`,
          RESUMED_WITHIN_MS - (Date.now() - resumedAt),
        );
      }
      await observer.waitForSubscribers(
        channel('room:frozen'),
        2,
        RESUMED_WITHIN_MS - (Date.now() - resumedAt),
      );
      a1.send('thawed');
      expect(await b1.nextText()).toBe('thawed');
    });

    it('boots without Redis, delivers locally, connects once Redis appears, and closes at once while it is away', async () => {
      await redis().kill();
      const alonePrefix = uniquePrefix();
      const warningsBefore = busLines(warn, 'Cannot reach Redis').length;
      const bootedAt = Date.now();
      const lonely = await startApp(redisEnv(redis().address, alonePrefix));
      let closed = false;
      const clients = new TestClients(() => lonely.wsUrl);
      try {
        expect(Date.now() - bootedAt).toBeLessThan(2000);
        expect(await httpStatus(lonely, '/ready')).toBe(503);
        expect(await httpStatus(lonely, '/health')).toBe(200);

        const [first, second] = await clients.openAll('/ws/room/early', '/ws/room/early');
        first.send('before Redis');
        expect(await second.nextText()).toBe('before Redis');
        expect(busOf(lonely).dropped).toBeGreaterThan(0);

        await redis().restart();
        const restartedAt = Date.now();
        await waitForReadiness(lonely, 200, RESUMED_WITHIN_MS);
        // The room joined before Redis was reachable is subscribed now.
        await observer.waitForSubscribers(
          redis().channel(alonePrefix, 'room:early'),
          1,
          RESUMED_WITHIN_MS - (Date.now() - restartedAt),
        );
        expect(busLines(warn, 'Cannot reach Redis').length - warningsBefore).toBe(1);

        await clients.closeAll();
        await redis().kill();
        await waitForReadiness(lonely, 503, NOT_READY_WITHIN_MS);
        const closingAt = Date.now();
        await lonely.close();
        closed = true;
        expect(Date.now() - closingAt).toBeLessThan(1000);
      } finally {
        await clients.closeAll();
        if (!closed) await lonely.close();
        if (redis().down) await redis().restart();
      }
    });
  },
  { ownServer: true },
);

/** Reads text frames from `client` into `into` until one satisfies `done` (each wait bounded). */
async function readUntil(
  client: TestClient,
  into: string[],
  done: (text: string) => boolean,
  timeoutMs = RESUMED_WITHIN_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await client.nextText(Math.max(deadline - Date.now(), 1));
    into.push(text);
    if (done(text)) return;
  }
}
