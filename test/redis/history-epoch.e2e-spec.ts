import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisBus } from '../../src/bus/redis-bus';
import { SystemClock } from '../../src/common/clock';
import { RedisChannelHistory } from '../../src/history/redis-channel-history';
import { describeWithRedis, RedisServer, uniquePrefix } from '../support/redis';
import { waitUntil } from '../support/wait';

/**
 * A replica promoted after its primary died may lack the primary's last publications: the
 * history must then start a new epoch rather than hand out their offsets again for other data.
 * No cluster needed: a primary, a replica of it, and REPLICAOF NO ONE, as Sentinel would do.
 */
describeWithRedis(
  'channel history across a promoted replica',
  () => {
    const prefix = uniquePrefix();
    const topic = 'channel:epoch';
    let primary: RedisServer;
    let replica: RedisServer;
    const buses: RedisBus[] = [];
    const clients: Redis[] = [];

    beforeAll(async () => {
      jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      primary = await RedisServer.start();
      replica = await RedisServer.start(undefined, [
        '--replicaof',
        '127.0.0.1',
        String(primary.port),
      ]);
    });

    afterAll(async () => {
      await Promise.all(buses.map((bus) => bus.onApplicationShutdown()));
      for (const client of clients) client.disconnect();
      await Promise.all([primary.kill(), replica.kill()]);
      jest.restoreAllMocks();
    });

    const client = (server: RedisServer) => {
      const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      clients.push(redis);
      return redis;
    };

    const historyOn = async (server: RedisServer) => {
      const bus = new RedisBus({
        target: { kind: 'single', url: server.url },
        prefix,
        instance: `epoch-${buses.length}`,
        maxMessageBytes: 65536,
        maxPendingPublishes: 100,
        clock: new SystemClock(),
      });
      buses.push(bus);
      await new Promise<void>((resolve) => bus.onReady(resolve));
      return new RedisChannelHistory(bus, { prefix, size: 100, ttlSeconds: 300 });
    };

    it('starts a new epoch on the promoted replica, so an unreplicated offset is never reused', async () => {
      await waitUntil(
        () => client(replica).info('replication'),
        (info) => info.includes('master_link_status:up'),
        'the replica to sync',
        10_000,
      );
      const onPrimary = await historyOn(primary);
      const first = await onPrimary.publish({ topic, data: 'replicated' });
      expect(first.offset).toBe(1);
      expect(await client(primary).wait(1, 2000)).toBe(1);
      // Frozen, the replica never receives the next one: acknowledged, then lost with the primary.
      replica.pause();
      const lost = await onPrimary.publish({ topic, data: 'lost' });
      expect(lost).toEqual({ epoch: first.epoch, offset: 2 });
      await primary.kill();
      replica.resume();
      await client(replica).replicaof('NO', 'ONE');

      const onReplica = await historyOn(replica);
      const read = await onReplica.read(topic, 0);
      expect(read.position.epoch).not.toBe(first.epoch);
      expect(read.position.offset).toBe(0);
      const next = await onReplica.publish({ topic, data: 'after' });
      expect(next).toEqual({ epoch: read.position.epoch, offset: 1 });
      // Without the check, this publication would have been (first.epoch, 2): lost's position.
    });
  },
  { ownServer: true },
);
