import type Redis from 'ioredis';
import type { Environment } from '../../src/config/load-config';
import {
  channelsUnder,
  connectionNamesOf,
  describeWithRedis,
  inspector,
  subscriberCount,
  type DescribeWithRedisOptions,
  type RedisServer,
  type RedisUnderTest,
} from './redis';
import { describeWithRedisCluster, type RedisClusterServer } from './redis-cluster';
import { waitUntil } from './wait';

/**
 * The Redis a suite runs on, one server or a Redis Cluster, behind one shape: how the app reaches
 * it, how a topic is named there, what it sees (RedisObserver), and the outages a test inflicts.
 * describeWithEachRedis runs a suite's body once on each, so the two cannot drift apart.
 */
export interface RedisDeployment {
  readonly kind: 'single' | 'cluster';
  /** How the app reaches it: REDIS_URL, or REDIS_CLUSTER_NODES (every node as a seed). */
  readonly address: Environment;
  /**
   * The Redis channel of `topic` under `prefix`. On a cluster the topic is a hash tag, so that
   * the channel lands in the slot of the channel's history and presence keys
   * (`<prefix>history:{<topic>}:…`) and the publication script stays on one shard.
   */
  channel(prefix: string, topic: string): string;
  /** A new observer of what Redis sees; disconnect it when done. */
  observe(): RedisObserver;
  /**
   * The port of the server carrying `channel`: the one server, or on a cluster the primary of
   * the channel's slot (whose shard all its subscriptions and publications go through).
   */
  shardOf(channel: string): Promise<number>;
  /** How many shards there are (ports shardOf can answer): 1 on one server. */
  shards(): Promise<number>;
  /**
   * Whether a connection named `name` is one `instance` receives publications on: its
   * subscriber connection, or on a cluster the sharded subscriber of any shard.
   */
  isSubscriberOf(instance: string, name: string): boolean;
  /** SIGKILLs every server (a whole outage); what they held is lost. */
  kill(): Promise<void>;
  /** Starts every killed server again on its port; resolves once it serves (a cluster: healthy). */
  restart(): Promise<void>;
  /** SIGSTOPs every server: sockets stay open and nothing answers, as in a partition. */
  pause(): void;
  /** SIGCONTs every server. */
  resume(): void;
  /** Whether any server is down (killed and not restarted). */
  readonly down: boolean;
}

/**
 * What the servers of a deployment see, summed over its running nodes: on a cluster a channel
 * lives on the nodes of its shard (sharded pub/sub: SSUBSCRIBE, PUBSUB SHARD*), a key on its
 * primary and replica, an instance's connections on several nodes.
 */
export class RedisObserver {
  private readonly clients = new Map<string, Redis>();

  constructor(
    /** URLs of the nodes running now. */
    private readonly nodes: () => readonly string[],
    private readonly sharded: boolean,
  ) {}

  /** Connections subscribed to `channel`, on every node together. */
  async subscriberCount(channel: string): Promise<number> {
    const counts = await this.onEachNode((client) =>
      subscriberCount(client, channel, this.sharded),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Resolves once `channel` has exactly `count` subscribed connections. PUBSUB is the only way
   * to know that a SUBSCRIBE sent by an app has taken effect, so this polls (bounded).
   */
  async waitForSubscribers(channel: string, count: number, timeoutMs = 2000): Promise<void> {
    await waitUntil(
      () => this.subscriberCount(channel),
      (seen) => seen === count,
      `${count} subscriber(s) on ${channel}`,
      timeoutMs,
    );
  }

  /** Channels with a subscriber under `prefix`, sorted, each once. */
  async channelsUnder(prefix: string): Promise<string[]> {
    const lists = await this.onEachNode((client) => channelsUnder(client, prefix, this.sharded));
    return [...new Set(lists.flat())].sort();
  }

  /** Names of the connections `instance` has open, on every node together (repeats kept), sorted. */
  async connectionNamesOf(instance: string): Promise<string[]> {
    return (await this.connectionNamesByNode(instance)).flat().sort();
  }

  /** Names of the connections `instance` has open, node by node. */
  connectionNamesByNode(instance: string): Promise<string[][]> {
    return this.onEachNode((client) => connectionNamesOf(client, instance));
  }

  /** Keys matching `pattern`, each once (a replica holds its primary's keys too), sorted. */
  async keys(pattern: string): Promise<string[]> {
    const lists = await this.onEachNode((client) => client.keys(pattern));
    return [...new Set(lists.flat())].sort();
  }

  /** CLIENT KILLs every connection whose name `chosen` accepts, on every node; resolves how many. */
  async killConnections(chosen: (name: string) => boolean): Promise<number> {
    const killed = await this.onEachNode(async (client) => {
      const list = (await client.call('CLIENT', 'LIST')) as string;
      const ids = list.split('\n').flatMap((line) => {
        const id = /^id=(\d+) /.exec(line)?.[1];
        const name = / name=(\S*)/.exec(line)?.[1];
        return id !== undefined && name !== undefined && chosen(name) ? [id] : [];
      });
      for (const id of ids) await client.call('CLIENT', 'KILL', 'ID', id);
      return ids.length;
    });
    return killed.reduce((sum, count) => sum + count, 0);
  }

  /** CONFIG SET on every node. */
  async configSet(parameter: string, value: string): Promise<void> {
    await this.onEachNode((client) => client.config('SET', parameter, value));
  }

  disconnect(): void {
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
  }

  private onEachNode<T>(work: (client: Redis) => Promise<T>): Promise<T[]> {
    return Promise.all(
      this.nodes().map((url) => {
        let client = this.clients.get(url);
        if (!client) {
          client = inspector(url);
          this.clients.set(url, client);
        }
        return work(client);
      }),
    );
  }
}

/** One redis-server: REDIS_URL's (no outages) or the suite's own. */
class SingleRedis implements RedisDeployment {
  readonly kind = 'single';

  constructor(private readonly redis: RedisUnderTest) {}

  get address(): Environment {
    return { REDIS_URL: this.redis.url };
  }

  channel(prefix: string, topic: string): string {
    return prefix + topic;
  }

  observe(): RedisObserver {
    return new RedisObserver(() => [this.redis.url], false);
  }

  shardOf(): Promise<number> {
    return Promise.resolve(Number(new URL(this.redis.url).port));
  }

  shards(): Promise<number> {
    return Promise.resolve(1);
  }

  isSubscriberOf(instance: string, name: string): boolean {
    return name === `switchboard-${instance}-sub`;
  }

  kill(): Promise<void> {
    return this.server().kill();
  }

  restart(): Promise<void> {
    return this.server().restart();
  }

  pause(): void {
    this.server().pause();
  }

  resume(): void {
    this.server().resume();
  }

  get down(): boolean {
    return this.server().pid === undefined;
  }

  private server(): RedisServer {
    const own = this.redis.server;
    if (!own) throw new Error('This suite runs on REDIS_URL: pass { ownServer: true } for outages');
    return own;
  }
}

/** The file's Redis Cluster: an outage takes all six nodes, as one takes the single server. */
class ClusterRedis implements RedisDeployment {
  readonly kind = 'cluster';

  constructor(readonly cluster: RedisClusterServer) {}

  get address(): Environment {
    return { REDIS_CLUSTER_NODES: this.cluster.seeds };
  }

  channel(prefix: string, topic: string): string {
    return `${prefix}{${topic}}`;
  }

  observe(): RedisObserver {
    return new RedisObserver(() => this.cluster.live.map((node) => node.url), true);
  }

  async shardOf(channel: string): Promise<number> {
    return (await this.cluster.primaryOf(channel)).port;
  }

  async shards(): Promise<number> {
    return (await this.cluster.topology()).filter((node) => node.primary && !node.failing).length;
  }

  isSubscriberOf(instance: string, name: string): boolean {
    // ioredis names each shard's subscriber after the cluster's connection name.
    return name === `ioredis-cluster(ssubscriber):switchboard-${instance}`;
  }

  async kill(): Promise<void> {
    await Promise.all(this.cluster.nodes.map((node) => node.kill()));
  }

  /**
   * Each node comes back empty with its nodes.conf, so the cluster forms again with the same
   * slots and roles; resolves once it is healthy.
   */
  async restart(): Promise<void> {
    const killed = this.cluster.nodes.filter((node) => node.pid === undefined);
    await Promise.all(killed.map((node) => node.restart()));
    await this.cluster.waitUntilHealthy();
  }

  pause(): void {
    for (const node of this.cluster.nodes) node.pause();
  }

  resume(): void {
    for (const node of this.cluster.nodes) node.resume();
  }

  get down(): boolean {
    return this.cluster.nodes.some((node) => node.pid === undefined);
  }
}

/**
 * Runs `body` twice: on one Redis (as describeWithRedis, with its `options`) and on a Redis
 * Cluster (as describeWithRedisCluster: three primaries with a replica each, one per test file).
 * `body` gets the deployment (valid from its own beforeAll on) and, at once, its kind, for the
 * few tests that hold on one kind only. Call it at the top level of a file.
 */
export function describeWithEachRedis(
  name: string,
  body: (redis: () => RedisDeployment, kind: RedisDeployment['kind']) => void,
  options: DescribeWithRedisOptions = {},
): void {
  describeWithRedis(
    name,
    (redis) => {
      let deployment: SingleRedis | undefined;
      body(() => (deployment ??= new SingleRedis(redis())), 'single');
    },
    options,
  );
  describeWithRedisCluster(name, (cluster) => {
    let deployment: ClusterRedis | undefined;
    body(() => (deployment ??= new ClusterRedis(cluster())), 'cluster');
  });
}
