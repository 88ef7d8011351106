import { EventEmitter } from 'node:events';
import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import type { RedisCluster } from '../config/redis-target';
import {
  HEARTBEAT_MS,
  reconnectDelay,
  redisOptions,
  type RedisConnection,
  type RedisLink,
} from './redis-connection';

/**
 * How often ioredis re-reads CLUSTER SLOTS while every shard is whole (its default). Each read
 * opens and closes a short connection to a node, so the poll is Redis work that grows with the
 * instances (a thousand instances polling every second are a thousand connections a second).
 * While a shard is not whole, the link asks for a read every heartbeat instead
 * (ClusterLink.probe), so a promoted replica is still found within about HEARTBEAT_MS of its
 * promotion.
 */
export const SLOTS_REFRESH_MS = 5000;

/** What the link reads of an ioredis Cluster; a unit spec hands it a fake. */
export type ClusterClient = Pick<
  Cluster,
  | 'status'
  | 'slots'
  | 'nodes'
  | 'spublish'
  | 'ssubscribe'
  | 'sunsubscribe'
  | 'evalsha'
  | 'eval'
  | 'config'
  | 'quit'
  | 'disconnect'
  | 'on'
  | 'refreshSlotsCache'
>;

export type ClusterConnector = (target: RedisCluster, options: ClusterOptions) => ClusterClient;

export const connectCluster: ClusterConnector = (target, options) =>
  new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    options,
  );

/**
 * Options of the Cluster, with the fail-fast semantics of redisOptions() (redis-connection.ts):
 * - enableOfflineQueue false at the cluster level: a command for a shard without a ready
 *   connection is rejected at once (ioredis forces an offline queue on each node's own
 *   connection, which only holds commands while that connection is being opened);
 * - retryDelayOnFailover and retryDelayOnClusterDown 0: a command lost with its node, or refused
 *   with CLUSTERDOWN, is rejected rather than sent again after a delay (ioredis's defaults
 *   resend it, which could run a publication twice); MOVED and ASK are still followed, since
 *   Redis ran nothing then;
 * - the cluster reconnects forever (reconnectDelay), every node connection fails fast
 *   (maxRetriesPerRequest 0, no resend) and notices a silent node within SOCKET_TIMEOUT_MS of
 *   a PING;
 * - shardedSubscribers: one subscriber connection per primary, opened at once (lazyConnect
 *   false), so every shard's health is known before a topic needs it;
 * - enableReadyCheck false: in ioredis 6.0.0, a failed ready check (CLUSTER INFO says "fail"
 *   while a cluster re-forms) disconnects while the sharded subscribers are starting; stopping
 *   one then leaves its connect promise unsettled, and the subscriber group waits on it forever:
 *   never ready, nothing delivered (test/redis/outage.e2e-spec.ts, "boots without Redis", on a
 *   cluster). The link's own readiness (every slot covered, every primary answering PING) is
 *   the check instead;
 * - scaleReads 'master': every command, scripts included, goes to the shard's primary;
 * - dnsLookup passes host names through: ioredis would otherwise resolve every seed before
 *   connecting and fail the whole connect when one name does not resolve (ioredis#979; in
 *   Compose the name of a stopped node's container does not), whereas each connection resolving
 *   its own name follows a node to a new address and fails alone.
 */
export function clusterOptions(target: RedisCluster, instance: string): ClusterOptions {
  // The cluster owns these for its node connections (see above); the rest applies to each node.
  const node: Partial<RedisOptions> = { ...redisOptions('publisher', instance) };
  delete node.enableOfflineQueue;
  delete node.retryStrategy;
  delete node.autoResubscribe;
  return {
    shardedSubscribers: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    scaleReads: 'master',
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    slotsRefreshTimeout: 1000,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    clusterRetryStrategy: (attempt) => reconnectDelay(attempt),
    dnsLookup: (address, callback) => callback(null, address),
    lazyConnect: false,
    redisOptions: {
      ...node,
      connectionName: `switchboard-${instance}`,
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
    },
  };
}

/** The part of ioredis's private ClusterSubscriberGroup the link reads. */
interface ShardedSubscriberGroup {
  readonly shardedSubscribers: Map<string, { getInstance(): Redis | null }>;
}

/**
 * ioredis keeps the sharded subscribers private; their health is what readiness must reflect
 * (a shard whose subscriber is gone delivers nothing to this instance), so the link reads them.
 * Checked once at construction: an ioredis that moved them fails at boot, not silently.
 */
function subscriberGroupOf(cluster: ClusterClient): ShardedSubscriberGroup {
  const group = (cluster as unknown as { shardedSubscribers?: Partial<ShardedSubscriberGroup> })
    .shardedSubscribers;
  if (!(group?.shardedSubscribers instanceof Map)) {
    throw new Error(
      'This ioredis has no ClusterSubscriberGroup.shardedSubscribers: the Redis Cluster bus needs ioredis 6',
    );
  }
  return group as ShardedSubscriberGroup;
}

function nodeKey(redis: Redis): string {
  return `${redis.options.host ?? '127.0.0.1'}:${redis.options.port ?? 6379}`;
}

type LinkStatus = 'connecting' | 'ready' | 'reconnecting' | 'end';

/**
 * The RedisBus's two connections on a Redis Cluster: one ioredis Cluster does both. Its commands
 * (SPUBLISH, the scripts) go to the primary of each key's slot; its sharded subscribers, one
 * per primary, carry SSUBSCRIBE and the 'smessageBuffer' messages.
 *
 * - The publisher view is ready while the cluster client is (at least one node answers):
 *   a command for a shard that is down fails fast on its own and is counted as dropped.
 * - The subscriber view is ready only while every shard is whole: every slot has a primary,
 *   each primary's command connection answers PING, and its sharded subscriber is connected
 *   and has resubscribed. So the bus's `connected` (readiness) is false while any primary is
 *   unreachable, and its 'close' then 'ready' make the bus fire `onResume` (the sequencer then
 *   checks every topic against history: one shard came back, all topics are checked, which
 *   costs one read per topic with local members and is simpler than tracking slots).
 * - When a primary dies, ioredis ends its sharded subscriber, re-reads the slots until the
 *   replica is promoted (every heartbeat while a shard is not whole), opens a
 *   subscriber on the new primary, SSUBSCRIBEs the shard's channels there again and emits
 *   'subscribersReady'. The link counts a new subscriber as resubscribed once a PING sent on it
 *   after that event is answered: Redis answers in order, so the SSUBSCRIBEs hold by then.
 */
export class ClusterLink implements RedisLink {
  readonly sharded = true;
  readonly publisher: ClusterPublisher;
  readonly subscriber: ClusterSubscriberView;
  private readonly group: ShardedSubscriberGroup;
  private readonly probeTimer: NodeJS.Timeout;
  /** Sharded subscriber connections whose resubscription a PING has confirmed. */
  private readonly confirmed = new WeakSet<Redis>();
  /** Sharded subscriber connections that may PING-confirm: seen before a 'subscribersReady'. */
  private readonly confirmable = new WeakSet<Redis>();
  private ended = false;
  /** Every shard was whole at least once since boot. */
  private everWhole = false;

  constructor(
    private readonly cluster: ClusterClient,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    this.group = subscriberGroupOf(cluster);
    this.publisher = new ClusterPublisher(this, cluster);
    this.subscriber = new ClusterSubscriberView(this, cluster);
    for (const event of ['ready', 'close', 'end', 'reconnecting', 'refresh', '-subscriber']) {
      cluster.on(event, this.evaluate);
    }
    cluster.on('subscribersReady', this.onSubscribersReady);
    for (const event of ['error', 'node error', 'nodeError']) {
      cluster.on(event, (error: Error) => this.publisher.emit('error', error));
    }
    this.probeTimer = setInterval(this.probe, heartbeatMs);
    this.probeTimer.unref();
  }

  get publisherStatus(): LinkStatus {
    // Quitting: 'end' only once the client has closed, so that the bus still disconnects it
    // when QUIT does not finish in time.
    if (this.ended) return this.cluster.status === 'end' ? 'end' : 'reconnecting';
    if (this.cluster.status === 'ready') return 'ready';
    // 'connect' is ioredis's step between the socket and its ready check: still the first try.
    return ['wait', 'connecting', 'connect'].includes(this.cluster.status)
      ? 'connecting'
      : 'reconnecting';
  }

  /** Ready while every shard has a reachable primary and a resubscribed sharded subscriber. */
  get subscriberStatus(): LinkStatus {
    const publisher = this.publisherStatus;
    if (publisher !== 'ready') return publisher;
    if (this.everyShardWhole()) {
      this.everWhole = true;
      return 'ready';
    }
    // Until every shard was whole once this is still the boot, not an outage to warn about.
    return this.everWhole ? 'reconnecting' : 'connecting';
  }

  /** Commands written to the primaries and not answered yet. */
  get pendingCommands(): number {
    let pending = 0;
    for (const node of this.cluster.nodes('master')) pending += node.commandQueue.length;
    return pending;
  }

  /** PINGs every sharded subscriber: answered once the SSUBSCRIBEs sent before it hold. */
  async pingSubscribers(): Promise<string> {
    await Promise.all(this.subscriberConnections().map((redis) => redis.ping()));
    return 'PONG';
  }

  async quit(): Promise<unknown> {
    this.end();
    return this.cluster.quit();
  }

  disconnect(): void {
    this.end();
    if (this.cluster.status !== 'end') this.cluster.disconnect();
  }

  private end(): void {
    this.ended = true;
    clearInterval(this.probeTimer);
  }

  private everyShardWhole(): boolean {
    const primaries = this.primaryKeys();
    if (primaries === undefined) return false;
    const masters = new Map(this.cluster.nodes('master').map((redis) => [nodeKey(redis), redis]));
    for (const key of primaries) {
      if (masters.get(key)?.status !== 'ready') return false;
      const subscriber = this.group.shardedSubscribers.get(key)?.getInstance();
      if (!subscriber || subscriber.status !== 'ready' || !this.confirmed.has(subscriber)) {
        return false;
      }
    }
    return true;
  }

  /** The primary of every slot, or undefined while some slot has none. */
  private primaryKeys(): Set<string> | undefined {
    const keys = new Set<string>();
    for (let slot = 0; slot < 16384; slot++) {
      const primary = this.cluster.slots[slot]?.[0];
      if (primary === undefined) return undefined;
      keys.add(primary);
    }
    return keys;
  }

  private subscriberConnections(): Redis[] {
    const connections: Redis[] = [];
    for (const subscriber of this.group.shardedSubscribers.values()) {
      const redis = subscriber.getInstance();
      if (redis !== null && redis.status === 'ready') connections.push(redis);
    }
    return connections;
  }

  private readonly onSubscribersReady = (): void => {
    for (const subscriber of this.group.shardedSubscribers.values()) {
      const redis = subscriber.getInstance();
      if (redis !== null) this.confirmable.add(redis);
    }
    this.probe();
  };

  /**
   * Every heartbeat: PINGs each primary's command connection (which also opens one ioredis
   * created lazily for a newly promoted primary) and each sharded subscriber, so a silent node
   * is noticed within SOCKET_TIMEOUT_MS; confirms resubscribed subscribers; re-evaluates.
   */
  private readonly probe = (): void => {
    if (this.ended) return;
    for (const node of this.cluster.nodes('master')) {
      // A failed PING needs nothing more: the connection ends, and readiness with it.
      node.ping().then(this.evaluate, this.evaluate);
    }
    for (const subscriber of this.group.shardedSubscribers.values()) {
      const redis = subscriber.getInstance();
      if (redis === null || redis.status !== 'ready') continue;
      const confirming = this.confirmable.has(redis) && !this.confirmed.has(redis);
      redis.ping().then(() => {
        if (confirming) this.confirmed.add(redis);
        this.evaluate();
      }, this.evaluate);
    }
    this.evaluate();
    // A shard without a live primary or subscriber: look for its promoted replica now rather
    // than at the next idle poll (ioredis skips a read while one is under way).
    if (this.cluster.status === 'ready' && this.subscriberStatus !== 'ready') {
      this.cluster.refreshSlotsCache();
    }
  };

  private readonly evaluate = (): void => {
    this.publisher.settle(this.publisherStatus);
    this.subscriber.settle(this.subscriberStatus);
  };
}

/**
 * One view of the link as a RedisConnection: its status, and 'ready' / 'close' on each change
 * of it, as an ioredis client emits them.
 */
abstract class ClusterView extends EventEmitter {
  private last: LinkStatus = 'connecting';

  constructor(
    protected readonly link: ClusterLink,
    protected readonly cluster: ClusterClient,
  ) {
    super();
  }

  abstract get status(): LinkStatus;

  settle(status: LinkStatus): void {
    if (status === this.last) return;
    const wasReady = this.last === 'ready';
    this.last = status;
    if (status === 'ready') this.emit('ready');
    else if (wasReady || status === 'reconnecting') this.emit('close');
  }

  get commandQueue(): { readonly length: number } {
    return { length: this.link.pendingCommands };
  }

  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.cluster.evalsha(sha, numKeys, ...args);
  }

  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.cluster.eval(script, numKeys, ...args);
  }

  config(subcommand: 'GET', parameter: string): Promise<unknown> {
    return this.cluster.config(subcommand, parameter);
  }
}

/** SPUBLISH and the scripts; quitting it closes the whole cluster client. */
class ClusterPublisher extends ClusterView implements RedisConnection {
  get status(): LinkStatus {
    return this.link.publisherStatus;
  }

  publish(channel: string, message: string): Promise<number> {
    return this.cluster.spublish(channel, message) as Promise<number>;
  }

  subscribe(): Promise<unknown> {
    return Promise.reject(new Error('the publisher view does not subscribe'));
  }

  unsubscribe(): Promise<unknown> {
    return Promise.reject(new Error('the publisher view does not subscribe'));
  }

  /** The link PINGs every primary itself each heartbeat. */
  ping(): Promise<string> {
    return Promise.resolve('PONG');
  }

  quit(): Promise<unknown> {
    return this.link.quit();
  }

  disconnect(): void {
    this.link.disconnect();
  }
}

/**
 * SSUBSCRIBE and SUNSUBSCRIBE, one command per channel (ioredis refuses channels of several
 * slots in one); messages arrive as 'messageBuffer' like a plain subscriber's.
 */
class ClusterSubscriberView extends ClusterView implements RedisConnection {
  constructor(link: ClusterLink, cluster: ClusterClient) {
    super(link, cluster);
    cluster.on('smessageBuffer', (channel: Buffer, message: Buffer) =>
      this.emit('messageBuffer', channel, message),
    );
  }

  get status(): LinkStatus {
    return this.link.subscriberStatus;
  }

  publish(): Promise<number> {
    return Promise.reject(new Error('the subscriber view does not publish'));
  }

  subscribe(...channels: string[]): Promise<unknown> {
    return Promise.all(channels.map((channel) => this.cluster.ssubscribe(channel)));
  }

  unsubscribe(...channels: string[]): Promise<unknown> {
    return Promise.all(channels.map((channel) => this.cluster.sunsubscribe(channel)));
  }

  ping(): Promise<string> {
    return this.link.pingSubscribers();
  }

  /** The publisher view closes the cluster client both share. */
  quit(): Promise<unknown> {
    return Promise.resolve('OK');
  }

  disconnect(): void {
    // See quit().
  }
}
