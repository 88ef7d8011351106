import Redis from 'ioredis';
import request from 'supertest';
import type { RunningApp } from '../support/app';
import { HistoryClient } from '../support/history-client';
import { envelope } from '../support/json-client';
import { uniquePrefix } from '../support/redis';
import { describeWithRedisCluster } from '../support/redis-cluster';
import { waitUntil } from '../support/wait';
import { TestClients } from '../support/ws-client';
import {
  busOf,
  expectDistinctInstances,
  instanceIdOf,
  startInstances,
  waitForReadiness,
} from './instances';

const ADMIN = 'cluster-admin-0123456789';

/**
 * Two instances on a real Redis Cluster (three primaries, one replica each) with
 * REDIS_CLUSTER_NODES: every feature that crosses instances works through sharded pub/sub, and
 * each instance holds a bounded number of connections per node, whatever its channels.
 */
describeWithRedisCluster('two instances on a Redis Cluster', (cluster) => {
  const prefix = uniquePrefix();
  let a: RunningApp;
  let b: RunningApp;
  const onA = new TestClients(() => a.wsUrl);
  const onB = new TestClients(() => b.wsUrl);
  const open = async (clients: TestClients) => new HistoryClient(await clients.open('/ws/json'));

  beforeAll(async () => {
    [a, b] = await startInstances(2, {
      REDIS_CLUSTER_NODES: cluster().seeds,
      REDIS_PREFIX: prefix,
      RATE_LIMIT_MAX: '1000000',
      BUS_SECRET: 'c'.repeat(32),
      API_KEYS: `ops:${ADMIN}`,
      CONNECT_RATE_LIMIT: '1000',
    });
    expectDistinctInstances(a, b);
    await Promise.all([waitForReadiness(a, 200, 10_000), waitForReadiness(b, 200, 10_000)]);
  }, 60_000);

  afterEach(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll()]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  /** Resolves once `topic`'s SSUBSCRIBE holds on every app. */
  const subscribedEverywhere = (topic: string) =>
    waitUntil(
      () =>
        Promise.all([a, b].map((app) => busOf(app).whenSubscribed(topic))).then(
          () => true,
          () => false,
        ),
      (done) => done,
      `"${topic}" to be subscribed on both instances`,
    );

  it('chat: lines from either instance reach every client', async () => {
    const alice = await onA.open('/ws/alice');
    const bob = await onB.open('/ws/bob');
    await subscribedEverywhere('chat');
    alice.send('one');
    expect(await bob.nextText()).toBe('Client alice: one');
    expect(await alice.nextText()).toBe('Client alice: one');
    bob.send('two');
    expect(await alice.nextText()).toBe('Client bob: two');
    expect(await bob.nextText()).toBe('Client bob: two');
  });

  it('rooms: reach the members on the other instance, never the sender', async () => {
    const onFirst = await onA.open('/ws/room/r1');
    const [second, third] = await onB.openAll('/ws/room/r1', '/ws/room/r1');
    await subscribedEverywhere('room:r1');
    onFirst.send('from A');
    expect(await second.nextText()).toBe('from A');
    expect(await third.nextText()).toBe('from A');
    second.send('from B');
    expect(await onFirst.nextText()).toBe('from B');
    expect(await third.nextText()).toBe('from B');
    expect(onFirst.unread).toHaveLength(0);
  });

  it('channels: publications numbered by history on the shard, delivered and resumed across instances', async () => {
    const channel = 'news';
    const [subB, publisher] = await Promise.all([open(onB), open(onA)]);
    const { epoch } = await subB.subscribe(channel);
    for (const n of [1, 2, 3]) {
      expect(await publisher.publish(channel, n)).toMatchObject({ epoch, offset: n });
    }
    await subB.readUntil(() => subB.deliveries.length === 3);
    expect(subB.deliveries.map((d) => d.offset)).toEqual([1, 2, 3]);

    const resumed = await open(onB);
    expect(await resumed.subscribe(channel, { offset: 1, epoch })).toMatchObject({
      epoch,
      offset: 3,
      recovered: true,
      publications: [
        { offset: 2, message: 2 },
        { offset: 3, message: 3 },
      ],
    });
  });

  it('presence: members of both instances are listed on each', async () => {
    const [onFirst, onSecond] = await Promise.all([onA.open('/ws/json'), onB.open('/ws/json')]);
    for (const [client, id] of [
      [onFirst, 'a'],
      [onSecond, 'b'],
    ] as const) {
      client.send(envelope('subscribe', { channel: 'room', presence: true }, id));
      await client.nextText();
    }
    const members = await waitUntil(
      async () => {
        onFirst.send(envelope('presence', { channel: 'room' }, 'p'));
        const frame = JSON.parse(await nextReply(onFirst, 'p')) as {
          data: { members: unknown[] };
        };
        return frame.data.members;
      },
      (list) => list.length === 2,
      'both members in presence',
    );
    expect(members).toHaveLength(2);
  });

  it('HTTP API: a publish on one instance reaches a subscriber of the other, once per Idempotency-Key', async () => {
    const subscriber = await open(onB);
    await subscriber.subscribe('api');
    const publish = (app: RunningApp) =>
      request(app.server)
        .post('/api/publish')
        .set('X-API-Key', ADMIN)
        .set('Idempotency-Key', 'cluster-1')
        .send({ channel: 'api', message: 'hello' });
    const first = await publish(a);
    expect(first.status).toBe(200);
    expect((await publish(b)).body).toEqual(first.body);
    await subscriber.readUntil(() => subscriber.deliveries.length === 1);
    expect(subscriber.deliveries).toEqual([{ channel: 'api', message: 'hello', offset: 1 }]);
  });

  it('opens two bus connections per primary per instance (one more for rate limits), whatever the number of channels', async () => {
    const client = await open(onA);
    const channels = Array.from({ length: 50 }, (_, i) => `many-${i}`);
    for (const channel of channels) await client.subscribe(channel);
    const instance = instanceIdOf(a);
    const perNode = await Promise.all(
      cluster().nodes.map(async (server) => {
        const inspector = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
        try {
          const names = ((await inspector.client('LIST')) as string)
            .split('\n')
            .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
            .filter((name) => name.includes(`switchboard-${instance}`))
            // The short connection that re-reads CLUSTER SLOTS every second comes and goes.
            .filter((name) => !name.includes('(refresher)'));
          const primary = (await inspector.info('replication')).includes('role:master');
          return {
            primary,
            bus: names.filter((name) => !name.includes('-limits')).length,
            limits: names.length - names.filter((name) => !name.includes('-limits')).length,
          };
        } finally {
          inspector.disconnect();
        }
      }),
    );
    // Per primary: the bus's command connection and sharded subscriber, and the rate limits'
    // command connection. A replica gets no traffic; it may keep one idle connection of each
    // client when it was first seen as a primary while the new cluster's roles propagated.
    const primaries = perNode.filter((node) => node.primary);
    expect(primaries.map(({ bus, limits }) => `${bus}+${limits}`)).toEqual(['2+1', '2+1', '2+1']);
    for (const replica of perNode.filter((node) => !node.primary)) {
      expect(replica.bus).toBeLessThanOrEqual(1);
      expect(replica.limits).toBeLessThanOrEqual(1);
    }
  });

  it('gets ready although one seed does not resolve: each connection resolves its own name', async () => {
    const [third] = await startInstances(1, {
      REDIS_CLUSTER_NODES: `${cluster().seeds},no-such-node.invalid:7000`,
      REDIS_PREFIX: prefix,
    });
    try {
      await waitForReadiness(third, 200, 10_000);
    } finally {
      await third.close();
    }
  });

  // Last: it leaves the cluster with a failed-over shard.
  it('a SIGKILLed primary: /ready 503, then 200 and delivery again within 10 s, in a new epoch', async () => {
    const channel = 'failover';
    const [subB, publisher] = await Promise.all([open(onB), open(onA)]);
    const before = await subB.subscribe(channel);
    await publisher.publish(channel, 'before');
    await subB.readUntil(() => subB.deliveries.length === 1);

    const primary = await cluster().primaryOf(`${prefix}{channel:${channel}}`);
    const killedAt = Date.now();
    await primary.kill();
    await waitForReadiness(b, 503, 5000);
    await waitForReadiness(b, 200, 10_000);
    await waitForReadiness(a, 200, 10_000);
    const after = await waitUntil(
      () => publisher.publish(channel, 'after'),
      (ack) => !('error' in ack),
      'a publish accepted after the failover',
      10_000,
    );
    const recoveredMs = Date.now() - killedAt;
    expect(recoveredMs).toBeLessThan(10_000);
    // The promoted replica starts a new epoch: offset 1 again, never (epoch, 2) with other data.
    expect(after).toMatchObject({ offset: 1 });
    const { epoch } = after as { epoch: string };
    expect(epoch).not.toBe(before.epoch);
    // The subscriber's position is gone with the old epoch: its subscription ends, as when its
    // history is lost, and subscribing again delivers from the new epoch on.
    await subB.readUntil(() => subB.ended.length > 0, 5000);
    expect(subB.ended).toEqual([{ channel, reason: 'Insufficient state' }]);
    expect(await subB.subscribe(channel)).toMatchObject({ epoch, offset: 1 });
    await publisher.publish(channel, 'again');
    await subB.readUntil(() => subB.deliveries.at(-1)?.message === 'again');
    expect(subB.deliveries.at(-1)).toEqual({ channel, message: 'again', offset: 2 });
  }, 30_000);
});

/** The next frame with `id`, skipping presence diffs and other frames without it. */
async function nextReply(
  client: Awaited<ReturnType<TestClients['open']>>,
  id: string,
): Promise<string> {
  for (;;) {
    const text = await client.nextText();
    if ((JSON.parse(text) as { id?: string }).id === id) return text;
  }
}
