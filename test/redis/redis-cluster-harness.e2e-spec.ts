import { Cluster } from 'ioredis';
import { describeWithRedisCluster, type RedisClusterServer } from '../support/redis-cluster';

/**
 * The cluster the Redis Cluster suites run on is what they assume: three primaries covering every
 * slot, one replica each, sharded pub/sub through ioredis, and a failover when a primary dies.
 */
describeWithRedisCluster('the test Redis Cluster', (cluster: () => RedisClusterServer) => {
  it('has three primaries covering all 16384 slots, each with one replica', async () => {
    const topology = await cluster().topology();
    const primaries = topology.filter((node) => node.primary);
    expect(primaries).toHaveLength(3);
    const slots = primaries
      .flatMap((node) => node.slots)
      .reduce((sum, [from, to]) => sum + to - from + 1, 0);
    expect(slots).toBe(16384);
    for (const primary of primaries) {
      expect(topology.filter((node) => node.primaryId === primary.id)).toHaveLength(1);
    }
  });

  it('carries SPUBLISH to an SSUBSCRIBEd ioredis Cluster client', async () => {
    const seeds = cluster()
      .seeds.split(',')
      .map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) }));
    const subscriber = new Cluster(seeds, { shardedSubscribers: true });
    const publisher = new Cluster(seeds);
    try {
      const received = new Promise<string>((resolve) =>
        subscriber.on('smessage', (_channel: string, message: string) => resolve(message)),
      );
      await subscriber.ssubscribe('{channel:probe}');
      await publisher.spublish('{channel:probe}', 'hello');
      await expect(withTimeout(received, 2000)).resolves.toBe('hello');
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
    }
  });

  it("promotes a killed primary's replica, and takes the primary back as a replica", async () => {
    const primary = await cluster().primaryOf('{channel:probe}');
    const replica = await cluster().replicaOf(primary);
    await primary.kill();
    await cluster().waitUntilHealthy(15_000);
    expect((await cluster().primaryOf('{channel:probe}')).port).toBe(replica.port);
    await primary.restart();
    await cluster().waitUntilHealthy(15_000);
    expect((await cluster().replicaOf(replica)).port).toBe(primary.port);
  }, 40_000);
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
