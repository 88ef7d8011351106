import Redis from 'ioredis';
import type { RunningApp } from '../support/app';
import { HistoryClient } from '../support/history-client';
import { uniquePrefix, type RedisServer } from '../support/redis';
import {
  describeWithRedisCluster,
  NODE_TIMEOUT_MS,
  type RedisClusterServer,
} from '../support/redis-cluster';
import { RedisObserver } from '../support/redis-deployment';
import { ResumingSubscriber, type Position } from '../support/resuming-subscriber';
import { waitUntil } from '../support/wait';
import { TestClients } from '../support/ws-client';
import {
  expectDistinctInstances,
  redisEnv,
  startInstances,
  waitForReadiness,
  watchReadiness,
  type ReadinessLog,
} from './instances';

/** The bound: delivery on the failed-over shard's channels resumes this soon after the kill. */
const RESUMED_WITHIN_MS = 10_000;
/** Each publisher publishes again this long after its previous publish was answered. */
const PUBLISH_EVERY_MS = 25;
/** A publish is answered (acknowledged or refused) this soon, failover or not: never held. */
const ANSWER_WITHIN_MS = 5000;
/** How long the whole failover may take to be over (/ready 200 again), a bound for the waits. */
const RECOVERED_WITHIN_MS = 20_000;

/** One publish and its answer: a position (`published`) or a refusal. */
interface Sent {
  readonly n: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly epoch?: string;
  readonly offset?: number;
  readonly error?: string;
}

/**
 * A publisher on one channel: publishes `{channel, n}` for n = 0, 1, 2…, the next one
 * PUBLISH_EVERY_MS after the previous answer, until stopped; keeps every answer.
 */
class Pump {
  readonly sent: Sent[] = [];
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly client: HistoryClient,
    readonly channel: string,
  ) {
    this.running = this.run();
  }

  get acknowledged(): Sent[] {
    return this.sent.filter((sent) => sent.offset !== undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async run(): Promise<void> {
    for (let n = 0; !this.stopping; n++) {
      const sentAt = Date.now();
      const answer = await this.client
        .publish(this.channel, { channel: this.channel, n }, ANSWER_WITHIN_MS)
        .catch((error: Error) => ({ error: `no answer: ${error.message}` }));
      this.sent.push({ n, sentAt, answeredAt: Date.now(), ...answer });
      // Pacing the traffic, not waiting for an event.
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS));
    }
  }
}

const key = (channel: string, epoch: string | undefined, offset: number | undefined) =>
  `${channel}|${epoch}|${offset}`;

/**
 * SIGKILL of a Redis Cluster primary while two instances carry channel traffic with history on:
 * its replica takes over, /ready is 503 meanwhile, delivery resumes, the other shards go on, no
 * position is ever given to two different publications, and resuming clients get everything
 * acknowledged or recovered:false. Every subscriber here behaves as a client should
 * (ResumingSubscriber: on `unsubscribed` with a reason it subscribes again with `since`).
 */
describeWithRedisCluster('failover of a Redis Cluster primary under traffic', (cluster) => {
  const prefix = uniquePrefix();
  let a: RunningApp;
  let b: RunningApp;
  const onA = new TestClients(() => a.wsUrl);
  const onB = new TestClients(() => b.wsUrl);

  beforeAll(async () => {
    [a, b] = await startInstances(2, {
      ...redisEnv({ REDIS_CLUSTER_NODES: cluster().seeds }, prefix),
      HISTORY_SIZE: '10000',
      BUS_SECRET: 'f'.repeat(32),
    });
    expectDistinctInstances(a, b);
    await Promise.all([waitForReadiness(a, 200, 5000), waitForReadiness(b, 200, 5000)]);
  });

  afterAll(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll()]);
    await Promise.all([a?.close(), b?.close()]);
  });

  it('SIGKILL of a primary mid-traffic: 503 meanwhile, resumes within 10 s, other shards go on, no position reused, resumes complete or recovered:false, the node rejoins as a replica', async () => {
    const { victim, doomed, steady } = await channelsPerShard(cluster());
    const replica = await cluster().replicaOf(victim);
    const channels = [doomed, ...steady];
    const open = async (clients: TestClients, channel: string) => {
      const subscriber = new ResumingSubscriber(await clients.open('/ws/json'), channel);
      await subscriber.subscribe();
      return subscriber;
    };
    const subscribers = new Map<string, ResumingSubscriber[]>();
    for (const channel of channels) {
      subscribers.set(channel, [await open(onA, channel), await open(onB, channel)]);
    }
    // Leaves just before the kill and comes back after the failover, from where it was.
    const away = await open(onB, doomed);
    const live = [...subscribers.values()].flat();
    // The primary to kill carries the channel: the subscriber connections of both instances.
    await expectSubscribersOn(victim, `${prefix}{channel:${doomed}}`, 2);

    const pumps = await Promise.all(
      channels.map(
        async (channel, i) =>
          new Pump(new HistoryClient(await (i % 2 ? onB : onA).open('/ws/json')), channel),
      ),
    );
    const readiness = [a, b].map(watchReadiness);
    const everyone = [...live, away];
    try {
      for (const subscriber of everyone) {
        await subscriber.until(() => subscriber.publications.length >= 10, 'ten deliveries', 5000);
      }
      // The replica falls behind for good: frozen, its link cut by the primary, it misses what
      // the primary acknowledges from then on. The failover loses those publications, and their
      // positions must not be given to others. It runs again once the primary is dead, within
      // NODE_TIMEOUT_MS, so that it is promoted.
      const doomedPump = pumps[0];
      replica.pause();
      let unreplicated = 0;
      let killedAt: number;
      let awayFrom: Position;
      try {
        await cutReplication(victim);
        const cutAt = Date.now();
        const sentAfterCut = () => doomedPump.acknowledged.filter((sent) => sent.sentAt > cutAt);
        await waitUntil(
          () => Promise.resolve(sentAfterCut().length),
          (count) => count >= 5,
          'five publications acknowledged and not replicated',
          2000,
        );
        // The client that will come back has seen them.
        await away.until(
          () => away.last?.offset === doomedPump.acknowledged.at(-1)?.offset,
          'the unreplicated publications',
          2000,
        );
        await away.client.close();
        awayFrom = away.last as Position;
        killedAt = Date.now();
        await victim.kill();
        unreplicated = sentAfterCut().length;
      } finally {
        replica.resume();
      }

      // (a) /ready 503 on both instances, then 200 again.
      const [aDown, bDown] = await Promise.all(
        readiness.map((log) => seen(log, killedAt, 503, RECOVERED_WITHIN_MS)),
      );
      const [aUp, bUp] = await Promise.all(
        readiness.map((log, i) => seen(log, [aDown, bDown][i], 200, RECOVERED_WITHIN_MS)),
      );

      // (b) Delivery on the failed-over channel: every subscriber of it gets a publication made
      // after the kill (after subscribing again when its subscription was ended).
      const acks = new Map<string, Sent>();
      const index = () => {
        for (const pump of pumps) {
          for (const sent of pump.acknowledged)
            acks.set(key(pump.channel, sent.epoch, sent.offset), sent);
        }
        return acks;
      };
      const resumedAt = (subscriber: ResumingSubscriber) =>
        subscriber.publications.find(
          (p) => (index().get(key(subscriber.channel, p.epoch, p.offset))?.sentAt ?? 0) > killedAt,
        )?.at;
      for (const subscriber of subscribers.get(doomed)!) {
        await subscriber.until(
          () => resumedAt(subscriber) !== undefined,
          'a publication made after the kill',
          killedAt + RECOVERED_WITHIN_MS - Date.now(),
        );
      }
      const resumedMs = Math.max(...subscribers.get(doomed)!.map((s) => resumedAt(s)! - killedAt));
      const firstAckAfterKill = doomedPump.acknowledged.find((sent) => sent.sentAt > killedAt);

      // (e) The client that was away resumes from its last position.
      const back = new ResumingSubscriber(await onA.open('/ws/json'), doomed);
      await back.subscribe(awayFrom);

      // (f) The killed node, restarted, rejoins as the replica of the promoted one; traffic goes on.
      await victim.restart();
      await cluster().waitUntilHealthy(RECOVERED_WITHIN_MS);
      expect((await cluster().primaryOf(`{channel:${doomed}}`)).port).toBe(replica.port);
      expect((await cluster().replicaOf(replica)).port).toBe(victim.port);
      const rejoinedAt = Date.now();
      await waitUntil(
        () => Promise.resolve(pumps.map((pump) => pump.acknowledged.at(-1)?.sentAt ?? 0)),
        (last) => last.every((sentAt) => sentAt > rejoinedAt + 500),
        'publications acknowledged on every channel for 500 ms after the rejoin',
        5000,
      );
      await Promise.all(pumps.map((pump) => pump.stop()));
      const lastAcks = pumps.map((pump) => pump.acknowledged.at(-1)!);
      for (const subscriber of [...live, back]) {
        const last = lastAcks[channels.indexOf(subscriber.channel)];
        await subscriber.until(
          () => subscriber.last?.epoch === last.epoch && subscriber.last?.offset === last.offset,
          'the last acknowledged publication',
          5000,
        );
      }
      await Promise.all(readiness.map((log) => log.stop()));
      index();

      // (a) 503 during the failover, 200 after it, and no change after that, rejoin included.
      for (const log of readiness) {
        const recovered = log.changes.findIndex((c) => c.at > killedAt && c.status === 200);
        expect(log.changes.slice(recovered + 1)).toEqual([]);
      }
      // (b)
      expect(resumedMs).toBeLessThan(RESUMED_WITHIN_MS);
      // (c) The other shards: delivering right after the kill; refusing only while Redis
      // refuses every shard (CLUSTERDOWN, cluster-require-full-coverage's default: from when the
      // nodes mark the primary failed, NODE_TIMEOUT_MS at the earliest, to the promotion,
      // before the failed-over channel takes publications again); every acknowledged
      // publication delivered in order to every subscriber, whose subscription never ended.
      const steadyRefused = pumps
        .slice(1)
        .flatMap((pump) => pump.sent.filter((sent) => sent.error !== undefined));
      for (const sent of steadyRefused) {
        expect(sent.sentAt).toBeGreaterThanOrEqual(killedAt + NODE_TIMEOUT_MS);
        expect(sent.sentAt).toBeLessThan(firstAckAfterKill!.answeredAt);
      }
      for (const subscriber of steady.flatMap((channel) => subscribers.get(channel)!)) {
        expect(subscriber.events.filter((e) => e.kind !== 'publication')).toHaveLength(1);
        const beforeFail = subscriber.publications.filter(
          (p) => p.at > killedAt && p.at < killedAt + NODE_TIMEOUT_MS,
        );
        expect(beforeFail.length).toBeGreaterThan(0);
      }
      // (d) One payload per position, across the acknowledgements and everything received.
      expect(reusedPositions(acks, [...everyone, back])).toEqual([]);
      // In order and without gaps within each subscription; everything acknowledged at the end.
      for (const subscriber of [...everyone, back]) expectContiguous(subscriber);
      for (const pump of pumps) {
        expect(pump.sent.filter((sent) => sent.error?.startsWith('no answer'))).toEqual([]);
      }
      // (e) Complete when recovered, else recovered:false; the same for every live subscriber
      // of the failed-over channel that subscribed again.
      const resumes = [back, ...subscribers.get(doomed)!].flatMap((subscriber) =>
        subscriber.events.filter((e) => e.kind === 'subscribed' && e.since !== undefined),
      );
      expect(resumes.length).toBeGreaterThan(0);
      for (const resume of resumes) {
        if (resume.kind !== 'subscribed' || !resume.recovered) continue;
        expect(resume.position.epoch).toBe(resume.since!.epoch);
        expect(resume.position.offset - resume.listed).toBe(resume.since!.offset);
      }
      // The client back from before the kill had seen publications the failover lost.
      const backResume = back.events.find((e) => e.kind === 'subscribed');
      expect(backResume).toMatchObject({ since: awayFrom, recovered: false });

      const ended = subscribers
        .get(doomed)!
        .flatMap((s) => s.events.filter((e) => e.kind === 'ended'));
      console.info(
        `Failover: /ready 503 after ${aDown - killedAt} / ${bDown - killedAt} ms, 200 after ` +
          `${aUp - killedAt} / ${bUp - killedAt} ms; delivery on the failed-over channel back ` +
          `after ${resumedMs} ms (first publish acknowledged ${
            firstAckAfterKill ? firstAckAfterKill.answeredAt - killedAt : '-'
          } ms after the kill); publishes refused: ${
            doomedPump.sent.filter((s) => s.error).length
          } on it, ${steadyRefused.length} on the other shards (sent ` +
          `${window(steadyRefused, killedAt)} ms after the kill: CLUSTERDOWN); ` +
          `${unreplicated} acknowledged ones never reached the replica; ` +
          `live subscriptions ended: ${
            ended.map((e) => (e.kind === 'ended' ? e.reason : '')).join(', ') || 'none'
          }; the client back from before the kill: recovered ${
            backResume?.kind === 'subscribed' ? String(backResume.recovered) : '?'
          }`,
      );
    } finally {
      for (const subscriber of everyone) subscriber.stop();
      await Promise.all(pumps.map((pump) => pump.stop()));
      await Promise.all(readiness.map((log) => log.stop()));
      if (victim.pid === undefined) await victim.restart();
    }
  }, 90_000);

  /**
   * A channel for every primary: the first primary (the one to kill) gets `doomed`, the others
   * one each. A channel's slot is that of its hash tag `{channel:<name>}` (its Redis channel
   * `<prefix>{channel:<name>}` and its history keys share it).
   */
  async function channelsPerShard(
    redisCluster: RedisClusterServer,
  ): Promise<{ victim: RedisServer; doomed: string; steady: string[] }> {
    const primaries = (await redisCluster.topology()).filter((node) => node.primary).length;
    const byPrimary = new Map<RedisServer, string>();
    for (let i = 0; byPrimary.size < primaries; i++) {
      if (i === 200) throw new Error('200 channel names did not cover every primary');
      const name = `feed-${i}`;
      const primary = await redisCluster.primaryOf(`{channel:${name}}`);
      if (!byPrimary.has(primary)) byPrimary.set(primary, name);
    }
    const [[victim, doomed], ...others] = byPrimary;
    return { victim, doomed, steady: others.map(([, name]) => name) };
  }

  /** Has `primary` close the connections of its replicas (they reconnect when they can). */
  async function cutReplication(primary: RedisServer): Promise<void> {
    const admin = new Redis(primary.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    try {
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }
  }

  /** Resolves once `node` has `count` connections SSUBSCRIBEd to `channel` (bounded). */
  async function expectSubscribersOn(
    node: RedisServer,
    channel: string,
    count: number,
  ): Promise<void> {
    const observer = new RedisObserver(() => [node.url], true);
    try {
      await observer.waitForSubscribers(channel, count);
    } finally {
      observer.disconnect();
    }
  }
});

/** When the first and the last of `sent` went out, in ms after `from` ('-' for none). */
function window(sent: readonly Sent[], from: number): string {
  if (sent.length === 0) return '-';
  return `${sent[0].sentAt - from}…${sent[sent.length - 1].sentAt - from}`;
}

/** When `log` first shows `status` at or after `from`; waits up to `timeoutMs` for it. */
async function seen(
  log: ReadinessLog,
  from: number,
  status: number,
  timeoutMs: number,
): Promise<number> {
  const change = await waitUntil(
    () => Promise.resolve(log.changes.find((c) => c.at >= from && c.status === status)),
    (found) => found !== undefined,
    `GET /ready to answer ${status}`,
    timeoutMs,
  );
  return change!.at;
}

/** Positions seen with two different payloads, across the acknowledgements and the subscribers. */
function reusedPositions(acks: Map<string, Sent>, subscribers: ResumingSubscriber[]): string[] {
  const payloads = new Map<string, string>();
  const reused: string[] = [];
  const see = (position: string, message: unknown) => {
    const payload = JSON.stringify(message);
    const before = payloads.get(position);
    if (before !== undefined && before !== payload)
      reused.push(`${position}: ${before} / ${payload}`);
    payloads.set(position, payload);
  };
  for (const [position, sent] of acks)
    see(position, { channel: position.split('|')[0], n: sent.n });
  for (const subscriber of subscribers) {
    for (const p of subscriber.publications) {
      see(key(subscriber.channel, p.epoch, p.offset), p.message);
    }
  }
  return reused;
}

/**
 * Each subscription of `subscriber` delivers its epoch's offsets one by one from where its
 * `subscribed` reply put it (its position minus the publications it listed).
 */
function expectContiguous(subscriber: ResumingSubscriber): void {
  let cursor: Position | undefined;
  for (const event of subscriber.events) {
    if (event.kind === 'subscribed') {
      cursor = { epoch: event.position.epoch, offset: event.position.offset - event.listed };
    } else if (event.kind === 'publication') {
      expect({ channel: subscriber.channel, epoch: event.epoch, offset: event.offset }).toEqual({
        channel: subscriber.channel,
        epoch: cursor?.epoch,
        offset: (cursor?.offset ?? Number.NaN) + 1,
      });
      cursor = { epoch: event.epoch, offset: event.offset };
    }
  }
}
