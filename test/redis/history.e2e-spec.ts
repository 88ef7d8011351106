import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { startApp } from '../support/app';
import { HistoryClient } from '../support/history-client';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis } from '../support/redis-deployment';
import { TestClients } from '../support/ws-client';
import { instanceIdOf, redisEnv, waitForReadiness } from './instances';
import { useTwoInstances } from './two-instances';

/** Offsets `from`+1 … `to`. */
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(to - from, 0) }, (_, i) => from + 1 + i);

describeWithEachRedis('channel history on Redis, two instances', (redis) => {
  const HISTORY_SIZE = 20;
  const { onA, onB, open } = useTwoInstances(() => ({
    ...redisEnv(redis().address, uniquePrefix()),
    HISTORY_SIZE: String(HISTORY_SIZE),
    BUS_SECRET: 'x'.repeat(32),
  }));

  it('numbers publications from both instances 1, 2, 3… and delivers them everywhere in order, signed', async () => {
    const channel = 'both';
    const [subA, subB, pubA, pubB] = await Promise.all([
      open(onA),
      open(onB),
      open(onA),
      open(onB),
    ]);
    const { epoch } = await subA.subscribe(channel);
    expect((await subB.subscribe(channel)).epoch).toBe(epoch);
    // Five publishes from each instance, each publisher one at a time, both at once.
    const publishFive = async (publisher: HistoryClient, from: number) => {
      const offsets: number[] = [];
      for (let n = from; n < from + 5; n++) {
        const ack = await publisher.publish(channel, n);
        offsets.push('offset' in ack ? ack.offset : -1);
      }
      return offsets;
    };
    const acks = (await Promise.all([publishFive(pubA, 0), publishFive(pubB, 5)])).flat();
    expect(acks.sort((x, y) => x - y)).toEqual(range(0, 10));
    for (const sub of [subA, subB]) {
      await sub.readUntil(() => sub.deliveries.length === 10);
      expect(sub.deliveries.map((d) => d.offset)).toEqual(range(0, 10));
    }
  });

  it('resumes on the other instance with every publication missed, then live', async () => {
    const channel = 'resume';
    const publisher = await open(onA);
    const first = await open(onA);
    await first.subscribe(channel);
    await publisher.publish(channel, 'before');
    await first.readUntil(() => first.deliveries.length === 1);
    await first.socket.close();
    for (const n of [1, 2, 3]) await publisher.publish(channel, n);

    const resumed = await open(onB);
    const { epoch } = await resumed.subscribe(channel);
    const again = await open(onB);
    expect(await again.subscribe(channel, { offset: 1, epoch })).toEqual({
      channel,
      epoch,
      offset: 4,
      recovered: true,
      publications: [1, 2, 3].map((n, i) => ({ offset: 2 + i, message: n })),
    });
    await publisher.publish(channel, 'live');
    await again.readUntil(() => again.deliveries.length === 1);
    expect(again.deliveries).toEqual([{ channel, message: 'live', offset: 5 }]);
  });

  it('property: reconnecting subscribers see offsets +1 at a time whenever recovered, and recovered:false only past history', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ onB: fc.boolean(), read: fc.integer({ min: 0, max: 12 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 10, max: 40 }),
        async (sessions, perPublisher) => {
          const channel = `property-${++run}`;
          const [pubA, pubB] = await Promise.all([open(onA), open(onB)]);
          const total = 2 * perPublisher;
          const publishing = Promise.all(
            [pubA, pubB].map(async (publisher) => {
              for (let n = 0; n < perPublisher; n++) {
                const ack = await publisher.publish(channel, n);
                if ('error' in ack) throw new Error(`publish refused: ${ack.error}`);
              }
            }),
          );
          let position: { epoch: string; offset: number } | undefined;
          const check = async (clients: TestClients, read: number) => {
            const client = await open(clients);
            const reply = await client.subscribe(channel, position);
            if (position !== undefined) {
              const published = reply.publications!.map((p) => p.offset);
              if (reply.recovered) {
                expect(published).toEqual(range(position.offset, reply.offset));
              } else {
                // Lost for real: the next offset wanted is older than anything retained.
                expect(reply.epoch).toBe(position.epoch);
                expect(published[0]).toBeGreaterThan(position.offset + 1);
                expect(published).toHaveLength(HISTORY_SIZE);
              }
            }
            let last = reply.offset;
            const reached = () => (client.deliveries.at(-1)?.offset ?? last) === total;
            await client.readUntil(() => client.deliveries.length >= read || reached(), 5000);
            for (const delivery of client.deliveries) {
              expect(delivery.offset).toBe(last + 1);
              last = delivery.offset;
            }
            position = { epoch: reply.epoch, offset: last };
            await client.socket.close();
          };
          for (const session of sessions) await check(session.onB ? onB : onA, session.read);
          await publishing;
          await check(onA, Number.MAX_SAFE_INTEGER);
          expect(position?.offset).toBe(total);
          await Promise.all([pubA.socket.close(), pubB.socket.close()]);
        },
      ),
      { numRuns: 20 },
    );
  }, 60_000);
});

describeWithEachRedis(
  'channel history when Redis stalls or loses its data',
  (redis) => {
    const instances = useTwoInstances(() => redisEnv(redis().address, uniquePrefix()));
    const { onA, onB, open } = instances;

    it('loses no acknowledged publication when Redis is frozen for 3 s mid-traffic, and refuses the others', async () => {
      const channel = 'frozen';
      const [subA, subB, publisher] = await Promise.all([open(onA), open(onB), open(onA)]);
      const { offset: start } = await subA.subscribe(channel);
      await subB.subscribe(channel);
      const acknowledged: number[] = [];
      const refused: string[] = [];
      let stop = false;
      const pumping = (async () => {
        for (let n = 0; !stop; n++) {
          const ack = await publisher.publish(channel, n, 5000);
          if ('error' in ack) refused.push(ack.error);
          else acknowledged.push(ack.offset);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      try {
        await subB.readUntil(() => subB.deliveries.length >= 10, 5000);
        redis().pause();
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } finally {
        redis().resume();
      }
      await waitForReadiness(instances.a(), 200, 5000);
      await waitForReadiness(instances.b(), 200, 5000);
      const afterResume = acknowledged.length;
      await subB.readUntil(() => acknowledged.length >= afterResume + 10, 10_000);
      stop = true;
      await pumping;
      const last = acknowledged.at(-1)!;
      for (const sub of [subA, subB]) {
        await sub.readUntil(() => sub.deliveries.at(-1)?.offset === last, 10_000);
        const seen = sub.deliveries.map((d) => d.offset);
        // Every acknowledged one, in order, once (refused ones may or may not exist: see docs).
        expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y));
        expect(acknowledged.filter((offset) => !seen.includes(offset))).toEqual([]);
        expect(seen[0]).toBe(start + 1);
        expect(sub.ended).toEqual([]);
      }
      expect(refused.every((error) => error === 'Bus unavailable')).toBe(true);
      expect(refused.length).toBeGreaterThan(0);
      console.info(
        `Frozen Redis: ${acknowledged.length} acknowledged, ${refused.length} refused, none missed`,
      );
    }, 30_000);

    it('repairs a live gap: an instance whose subscriber connection was cut gets what it missed, in order', async () => {
      const channel = 'cut';
      const [subB, publisher] = await Promise.all([open(onB), open(onA)]);
      const { offset: start } = await subB.subscribe(channel);
      const acknowledged: number[] = [];
      for (let n = 0; n < 5; n++) {
        const ack = await publisher.publish(channel, n);
        if ('offset' in ack) acknowledged.push(ack.offset);
      }
      // Redis cuts B's subscriber (as for its output buffer limit; on a cluster, the one of
      // each shard); A publishes on meanwhile.
      const b = instanceIdOf(instances.b());
      const observer = redis().observe();
      try {
        const cut = await observer.killConnections((name) => redis().isSubscriberOf(b, name));
        expect(cut).toBeGreaterThan(0);
      } finally {
        observer.disconnect();
      }
      for (let n = 5; n < 25; n++) {
        const ack = await publisher.publish(channel, n);
        if ('offset' in ack) acknowledged.push(ack.offset);
      }
      const last = acknowledged.at(-1)!;
      await subB.readUntil(() => subB.deliveries.at(-1)?.offset === last, 5000);
      expect(subB.deliveries.map((d) => d.offset)).toEqual(range(start, last));
      expect(subB.ended).toEqual([]);
    }, 15_000);

    it('refuses channel publishes at once while Redis is down, on /ws/json and /ws/subscribe, and delivers them to no one', async () => {
      const channel = 'down';
      const [subscriber, publisher] = await Promise.all([open(onA), open(onA)]);
      await subscriber.subscribe(channel);
      const text = await onA.open(`/ws/subscribe/${channel}`);
      await redis().kill();
      try {
        await waitForReadiness(instances.a(), 503, 3000);
        const startedAt = Date.now();
        expect(await publisher.publish(channel, 'lost')).toEqual({ error: 'Bus unavailable' });
        expect(Date.now() - startedAt).toBeLessThan(500);
        text.send('lost too');
        expect(await text.nextText()).toBe('{"error":"Bus unavailable"}');
        // Nothing reached the subscriber: the next frame it gets is the reply to this ping.
        expect(await subscriber.request('ping', undefined)).toMatchObject({ type: 'pong' });
        expect(subscriber.deliveries).toEqual([]);
        // Rooms keep delivering on the same instance during the outage.
        const [r1, r2] = await onA.openAll('/ws/room/during', '/ws/room/during');
        r1.send('still here');
        expect(await r2.nextText()).toBe('still here');
      } finally {
        await redis().restart();
      }
      await waitForReadiness(instances.a(), 200, 5000);
      await waitForReadiness(instances.b(), 200, 5000);
    }, 20_000);

    it('warns at boot when Redis may evict history keys', async () => {
      const observer = redis().observe();
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        await observer.configSet('maxmemory-policy', 'allkeys-lru');
        const extra = await startApp(redisEnv(redis().address, uniquePrefix()));
        try {
          await waitForReadiness(extra, 200, 5000);
          const warned = () =>
            warn.mock.calls.some(([line]) =>
              String(line).includes('maxmemory-policy is "allkeys-lru"'),
            );
          const deadline = Date.now() + 2000;
          while (!warned() && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          expect(warned()).toBe(true);
        } finally {
          await extra.close();
        }
      } finally {
        warn.mockRestore();
        await observer.configSet('maxmemory-policy', 'noeviction');
        observer.disconnect();
      }
    });

    it('starts a new epoch when Redis restarts without persistence: live subscribers are told, resuming says recovered:false', async () => {
      const channel = 'restarted';
      const [subscriber, publisher] = await Promise.all([open(onB), open(onA)]);
      const before = await subscriber.subscribe(channel);
      for (const n of [1, 2, 3]) await publisher.publish(channel, n);
      await subscriber.readUntil(() => subscriber.deliveries.length === 3);

      await redis().kill();
      await redis().restart();
      await waitForReadiness(instances.a(), 200, 5000);
      await waitForReadiness(instances.b(), 200, 5000);
      await subscriber.readUntil(() => subscriber.ended.length === 1, 5000);
      expect(subscriber.ended).toEqual([{ channel, reason: 'Insufficient state' }]);

      const resumed = await subscriber.subscribe(channel, {
        epoch: before.epoch,
        offset: before.offset + 3,
      });
      expect(resumed.epoch).not.toBe(before.epoch);
      expect(resumed).toMatchObject({ offset: 0, recovered: false, publications: [] });
      expect(await publisher.publish(channel, 'new')).toEqual({
        channel,
        epoch: resumed.epoch,
        offset: 1,
      });
    }, 30_000);
  },
  { ownServer: true },
);
