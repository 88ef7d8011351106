import { ConnectionRegistry } from '../../src/connections/connection-registry';
import type { RunningApp } from '../support/app';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis, type RedisObserver } from '../support/redis-deployment';
import { waitForValue, waitUntil } from '../support/wait';
import { TestClients, type TestClient } from '../support/ws-client';
import {
  expectDistinctInstances,
  instanceIdOf,
  redisEnv,
  startInstances,
  waitForReadiness,
} from './instances';

/**
 * Two instances of the real app sharing one Redis, or one Redis Cluster: every endpoint that
 * fans out reaches clients on the other instance, once per recipient, in each sender's order.
 *
 * "Once" is checked with markers: after a message arrived everywhere, a marker goes out from the
 * other instance. Redis had already written the first message to every subscriber connection
 * before it handled the marker's PUBLISH, so a duplicate (say, an instance delivering its own
 * message again when Redis echoes it) would reach the socket before the marker; each test reads
 * every frame in order, so it would be seen. On a cluster this holds for markers on the same
 * channel (one shard orders it), which is where every marker here goes.
 */
describeWithEachRedis('two instances sharing Redis', (redis, kind) => {
  const prefix = uniquePrefix();
  let a: RunningApp;
  let b: RunningApp;
  let observer: RedisObserver;
  const onA = new TestClients(() => a.wsUrl);
  const onB = new TestClients(() => b.wsUrl);

  beforeAll(async () => {
    [a, b] = await startInstances(2, redisEnv(redis().address, prefix));
    observer = redis().observe();
    expectDistinctInstances(a, b);
    await Promise.all([waitForReadiness(a, 200, 5000), waitForReadiness(b, 200, 5000)]);
  });

  afterEach(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll()]);
    // Every test starts with no channel of this prefix subscribed.
    await waitForChannels([]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    observer?.disconnect();
  });

  const waitForChannels = (expected: string[]) =>
    waitUntil(
      () => observer.channelsUnder(prefix),
      (channels) => channels.join() === expected.join(),
      `the channels under the prefix to be [${expected.join()}]`,
    );

  const channel = (topic: string) => redis().channel(prefix, topic);

  /**
   * `count` rooms whose channels spread over every server (on a cluster, at least one on each
   * shard): `room:<stem>-0`, `room:<stem>-1`, …
   */
  const roomsOnEveryShard = async (stem: string, count: number): Promise<string[]> => {
    const rooms = Array.from({ length: count }, (_, i) => `${stem}-${i}`);
    const shards = await Promise.all(rooms.map((room) => redis().shardOf(channel(`room:${room}`))));
    if (new Set(shards).size !== (await redis().shards()))
      throw new Error(`${count} rooms missed a shard: pick more`);
    return rooms;
  };

  /** A room whose channel the server (the shard) of `topicChannel` carries, on one connection. */
  const roomBeside = async (topicChannel: string, stem: string): Promise<string> => {
    const shard = await redis().shardOf(topicChannel);
    for (let i = 0; i < 100; i++) {
      if ((await redis().shardOf(channel(`room:${stem}-${i}`))) === shard) return `${stem}-${i}`;
    }
    throw new Error(`No room of 100 shares the shard of ${topicChannel}`);
  };

  describe('connections and channels (contract 1)', () => {
    it('opens a fixed set of Redis connections per instance, whatever the sockets and channels', async () => {
      const rooms = await roomsOnEveryShard('spread', 12);
      await onA.openAll(
        '/ws/one',
        '/ws/two',
        '/ws/room/r1',
        '/ws/room/r1',
        ...rooms.map((room) => `/ws/room/${room}`),
        '/ws/subscribe/c1',
        '/ws/subscribe/c2',
      );
      await onB.openAll('/ws/three', '/ws/room/r1', ...rooms.map((room) => `/ws/room/${room}`));
      await observer.waitForSubscribers(channel('room:r1'), 2);
      for (const room of rooms) await observer.waitForSubscribers(channel(`room:${room}`), 2);

      const instances = [instanceIdOf(a), instanceIdOf(b)];
      const before = await Promise.all(instances.map((id) => observer.connectionNamesOf(id)));
      if (kind === 'single') {
        expect(before).toEqual(
          instances.map((id) => [`switchboard-${id}-pub`, `switchboard-${id}-sub`]),
        );
      } else {
        // On each primary one command connection and one sharded subscriber (ioredis names
        // it), on the replicas none: connections bounded by the shards, not the channels.
        const shards = await redis().shards();
        for (const id of instances) {
          const used = (await observer.connectionNamesByNode(id)).filter((names) => names.length);
          expect(used).toEqual(
            Array.from({ length: shards }, () => [
              `ioredis-cluster(ssubscriber):switchboard-${id}`,
              `switchboard-${id}`,
            ]),
          );
        }
      }

      // Many more channels, on every server: not one more connection.
      const more = await roomsOnEveryShard('more', 30);
      await onA.openAll(...more.map((room) => `/ws/room/${room}`));
      await onB.openAll(...more.map((room) => `/ws/room/${room}`));
      for (const room of more) await observer.waitForSubscribers(channel(`room:${room}`), 2);
      const after = await Promise.all(instances.map((id) => observer.connectionNamesOf(id)));
      expect(after).toEqual(before);
    });

    it('subscribes prefix + topic for the first local member and unsubscribes after the last', async () => {
      const topic = channel('room:first-last');
      expect(await observer.subscriberCount(topic)).toBe(0);

      const [first, second] = await onA.openAll('/ws/room/first-last', '/ws/room/first-last');
      await observer.waitForSubscribers(topic, 1);
      await onB.open('/ws/room/first-last');
      // Exactly 2: the second member on A did not subscribe A's connection again.
      await observer.waitForSubscribers(topic, 2);
      await waitForChannels([topic]);

      const connections = a.app.get(ConnectionRegistry);
      await first.close();
      await waitForValue(() => connections.size, 1, 'the connections on A');
      // A marker subscription on A's subscriber connection of the topic's server (on a
      // cluster, its shard's): once Redis has it, any UNSUBSCRIBE that A sent when `first`
      // left has been handled too.
      const marker = await roomBeside(topic, 'marker');
      await onA.open(`/ws/room/${marker}`);
      await observer.waitForSubscribers(channel(`room:${marker}`), 1);
      expect(await observer.subscriberCount(topic)).toBe(2);

      await second.close();
      await observer.waitForSubscribers(topic, 1);
      await waitForChannels([channel(`room:${marker}`), topic].sort());
    });
  });

  describe('delivery across instances (contract 2)', () => {
    it('chat: every line and "Client … left" reach both instances once', async () => {
      const alice = await onA.open('/ws/alice');
      const carol = await onA.open('/ws/carol');
      const bob = await onB.open('/ws/bob');
      await observer.waitForSubscribers(channel('chat'), 2);

      alice.send('one');
      for (const client of [alice, carol, bob]) {
        expect(await client.nextText()).toBe('Client alice: one');
      }
      bob.send('two');
      for (const client of [alice, carol, bob]) {
        expect(await client.nextText()).toBe('Client bob: two');
      }
      carol.send('three');
      for (const client of [alice, carol, bob]) {
        expect(await client.nextText()).toBe('Client carol: three');
      }

      await alice.close();
      expect(await bob.nextText()).toBe('Client alice left');
      expect(await carol.nextText()).toBe('Client alice left');
      bob.send('four');
      expect(await carol.nextText()).toBe('Client bob: four');
      expect(await bob.nextText()).toBe('Client bob: four');
      carol.send('five');
      expect(await bob.nextText()).toBe('Client carol: five');
      expect(await carol.nextText()).toBe('Client carol: five');
    });

    it('rooms: reach the other members on both instances, never the sender or another room', async () => {
      const [a1, a2] = await onA.openAll('/ws/room/r1', '/ws/room/r2');
      const [b1, b2, b3] = await onB.openAll('/ws/room/r1', '/ws/room/r1', '/ws/room/r2');
      await observer.waitForSubscribers(channel('room:r1'), 2);
      await observer.waitForSubscribers(channel('room:r2'), 2);

      a1.send('r1 from A');
      expect(await b1.nextText()).toBe('r1 from A');
      expect(await b2.nextText()).toBe('r1 from A');
      b1.send('r1 from B');
      expect(await a1.nextText()).toBe('r1 from B'); // not its own "r1 from A"
      expect(await b2.nextText()).toBe('r1 from B');
      a1.send('r1 again from A');
      expect(await b1.nextText()).toBe('r1 again from A'); // not its own "r1 from B"
      expect(await b2.nextText()).toBe('r1 again from A');

      // r2 saw none of it: the first frame each member gets is the other's marker.
      b3.send('r2 from B');
      expect(await a2.nextText()).toBe('r2 from B');
      a2.send('r2 from A');
      expect(await b3.nextText()).toBe('r2 from A');
      b2.send('r1 marker');
      expect(await a1.nextText()).toBe('r1 marker');
      expect(await b1.nextText()).toBe('r1 marker');
      expect([a2, b3].map((client) => client.unread.length)).toEqual([0, 0]);
    });

    it('rooms with non-ASCII ids: one Redis channel for the NFC and the decomposed spelling', async () => {
      const onFirst = await onA.open('/ws/room/caf%C3%A9');
      const onSecond = await onB.open('/ws/room/cafe%CC%81');
      await observer.waitForSubscribers(channel('room:café'), 2);
      await waitForChannels([channel('room:café')]);

      onFirst.send('from A');
      expect(await onSecond.nextText()).toBe('from A');
      onSecond.send('from B');
      expect(await onFirst.nextText()).toBe('from B');
    });

    it("keeps each sender's order at every recipient on both instances", async () => {
      const [a1, a2] = await onA.openAll('/ws/room/order', '/ws/room/order');
      const [b1, b2] = await onB.openAll('/ws/room/order', '/ws/room/order');
      await observer.waitForSubscribers(channel('room:order'), 2);
      const count = 200;
      const fromA = Array.from({ length: count }, (_, i) => `a-${i}`);
      const fromB = Array.from({ length: count }, (_, i) => `b-${i}`);
      for (let i = 0; i < count; i++) {
        a1.send(fromA[i]);
        b1.send(fromB[i]);
      }

      const bySender = (texts: string[], sender: string) =>
        texts.filter((text) => text.startsWith(`${sender}-`));
      const a1Got = await a1.nextTexts(count, 5000);
      const b1Got = await b1.nextTexts(count, 5000);
      expect(a1Got).toEqual(fromB);
      expect(b1Got).toEqual(fromA);
      for (const recipient of [a2, b2]) {
        const got = await recipient.nextTexts(2 * count, 5000);
        expect(bySender(got, 'a')).toEqual(fromA);
        expect(bySender(got, 'b')).toEqual(fromB);
      }
    });

    it('/ws/subscribe/{channel} and /ws/json publish reach subscribers of both endpoints on both instances', async () => {
      const [s1, j1] = await onA.openAll('/ws/subscribe/news', '/ws/json');
      const [s2, j2] = await onB.openAll('/ws/subscribe/news', '/ws/json');
      for (const [client, id] of [
        [j1, 1],
        [j2, 2],
      ] as const) {
        client.send(JSON.stringify({ type: 'subscribe', payload: { channel: 'news' }, id }));
        // History is on (the default): the reply carries the channel's position.
        expect(JSON.parse(await client.nextText())).toEqual({
          type: 'subscribed',
          data: { channel: 'news', epoch: expect.stringMatching(/./) as unknown, offset: 0 },
          id,
        });
      }
      await observer.waitForSubscribers(channel('channel:news'), 2);
      const message = (value: unknown, offset: number) => ({
        type: 'message',
        data: { channel: 'news', message: value, offset },
      });

      s1.send('text from A');
      for (const subscriber of [s1, s2]) expect(await subscriber.nextText()).toBe('text from A');
      for (const subscriber of [j1, j2]) {
        expect(JSON.parse(await subscriber.nextText())).toEqual(message('text from A', 1));
      }

      j2.send(
        JSON.stringify({ type: 'publish', payload: { channel: 'news', message: { n: 2 } }, id: 3 }),
      );
      // j2 gets the message and the acknowledgement; their relative order is not specified.
      const j2Frames = (await j2.nextTexts(2)).map((text) => JSON.parse(text) as unknown);
      expect(j2Frames).toContainEqual(message({ n: 2 }, 2));
      expect(j2Frames).toContainEqual({
        type: 'published',
        data: { channel: 'news', epoch: expect.stringMatching(/./) as unknown, offset: 2 },
        id: 3,
      });
      expect(JSON.parse(await j1.nextText())).toEqual(message({ n: 2 }, 2));
      for (const subscriber of [s1, s2]) expect(await subscriber.nextText()).toBe('{"n":2}');

      s2.send('marker from B');
      for (const subscriber of [s1, s2]) expect(await subscriber.nextText()).toBe('marker from B');
      for (const subscriber of [j1, j2]) {
        expect(JSON.parse(await subscriber.nextText())).toEqual(message('marker from B', 3));
      }
      const idle = (clients: TestClient[]) => clients.map((client) => client.unread.length);
      expect(idle([s1, j1, s2, j2])).toEqual([0, 0, 0, 0]);
    });
  });
});
