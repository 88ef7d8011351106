import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Clock } from '../common/clock';
import type { RedisCluster } from '../config/redis-target';
import { RedisBus } from './redis-bus';
import { ClusterLink, clusterOptions, type ClusterClient } from './redis-cluster-link';

const TARGET: RedisCluster = { kind: 'cluster', nodes: [{ host: 'a', port: 1 }], tls: false };

/** A node connection: status, PING, and the command queue the bus reads. */
class FakeNode extends EventEmitter {
  status = 'ready';
  readonly commandQueue = { length: 0 };
  pings = 0;
  readonly options: { host: string; port: number };

  constructor(key: string) {
    super();
    const [host, port] = key.split(':');
    this.options = { host, port: Number(port) };
  }

  ping(): Promise<string> {
    this.pings++;
    return this.status === 'ready' ? Promise.resolve('PONG') : Promise.reject(new Error('down'));
  }
}

/**
 * An ioredis Cluster stand-in: two primaries sharing the slots, a sharded subscriber per
 * primary kept where ioredis keeps them, the commands the link sends recorded.
 */
class FakeCluster extends EventEmitter {
  status = 'ready';
  slots: string[][] = Array.from({ length: 16384 }, (_, slot) => [slot < 8192 ? 'n:1' : 'n:2']);
  readonly masters = new Map([
    ['n:1', new FakeNode('n:1')],
    ['n:2', new FakeNode('n:2')],
  ]);
  readonly subscribers = new Map([
    ['n:1', new FakeNode('n:1')],
    ['n:2', new FakeNode('n:2')],
  ]);
  readonly shardedSubscribers = {
    shardedSubscribers: new Map(
      [...this.subscribers.keys()].map((key) => [
        key,
        { getInstance: () => this.subscribers.get(key) as unknown as Redis },
      ]),
    ),
  };
  readonly sent: string[][] = [];
  slotReads = 0;

  refreshSlotsCache(): void {
    this.slotReads++;
  }

  nodes(): FakeNode[] {
    return [...this.masters.values()];
  }

  spublish(channel: string, message: string): Promise<number> {
    this.sent.push(['SPUBLISH', channel, message]);
    return Promise.resolve(1);
  }

  ssubscribe(...channels: string[]): Promise<number> {
    this.sent.push(['SSUBSCRIBE', ...channels]);
    return Promise.resolve(channels.length);
  }

  sunsubscribe(...channels: string[]): Promise<number> {
    this.sent.push(['SUNSUBSCRIBE', ...channels]);
    return Promise.resolve(channels.length);
  }

  quit(): Promise<string> {
    this.status = 'end';
    return Promise.resolve('OK');
  }

  disconnect(): void {
    this.status = 'end';
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('clusterOptions', () => {
  it('fails fast and never resends, with one sharded subscriber per primary opened at once', () => {
    const options = clusterOptions(
      { ...TARGET, username: 'sb', password: 'secret', tls: true },
      'me',
    );
    expect(options).toMatchObject({
      shardedSubscribers: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      scaleReads: 'master',
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      slotsRefreshInterval: 5000,
      redisOptions: {
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        lazyConnect: false,
        username: 'sb',
        password: 'secret',
        tls: {},
      },
    });
    expect(options.redisOptions).not.toHaveProperty('retryStrategy');
    expect(options.redisOptions).not.toHaveProperty('enableOfflineQueue');
    expect(options.clusterRetryStrategy?.(100, new Error())).toBeLessThanOrEqual(1000);
  });

  it('leaves seed names to each connection to resolve, so one unresolvable seed fails alone', () => {
    const resolved = jest.fn();
    clusterOptions(TARGET, 'me').dnsLookup?.('redis-cluster-4', resolved);
    expect(resolved).toHaveBeenCalledWith(null, 'redis-cluster-4');
  });
});

describe('ClusterLink', () => {
  let cluster: FakeCluster;
  let link: ClusterLink;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    cluster = new FakeCluster();
    link = new ClusterLink(cluster as unknown as ClusterClient, 500);
  });

  afterEach(() => {
    link.disconnect();
    jest.useRealTimers();
  });

  /** ioredis has (re)subscribed every shard; the next probe's PINGs confirm it. */
  const resubscribed = async () => {
    cluster.emit('subscribersReady');
    await settle();
  };

  it('is subscriber-ready only once a PING after subscribersReady confirmed every shard', async () => {
    expect(link.publisher.status).toBe('ready');
    expect(link.subscriber.status).not.toBe('ready');
    jest.advanceTimersByTime(500);
    await settle();
    expect(link.subscriber.status).not.toBe('ready');
    await resubscribed();
    expect(link.subscriber.status).toBe('ready');
  });

  it('goes down while a primary is unreachable and up once its replacement resubscribed', async () => {
    await resubscribed();
    const events: string[] = [];
    link.subscriber.on('close', () => events.push('close'));
    link.subscriber.on('ready', () => events.push('ready'));

    // The primary of n:2 dies: its sharded subscriber ends, ioredis re-reads the slots.
    cluster.subscribers.get('n:2')!.status = 'end';
    cluster.masters.get('n:2')!.status = 'end';
    cluster.emit('-subscriber');
    expect(link.subscriber.status).toBe('reconnecting');
    expect(link.publisher.status).toBe('ready'); // the other shard still takes commands

    // Its replica n:3 is promoted: a new primary and a new subscriber, not yet resubscribed.
    cluster.slots = cluster.slots.map(([key]) => [key === 'n:2' ? 'n:3' : key]);
    cluster.masters.delete('n:2');
    cluster.masters.set('n:3', new FakeNode('n:3'));
    cluster.subscribers.set('n:3', new FakeNode('n:3'));
    cluster.shardedSubscribers.shardedSubscribers.set('n:3', {
      getInstance: () => cluster.subscribers.get('n:3') as unknown as Redis,
    });
    cluster.emit('refresh');
    expect(link.subscriber.status).toBe('reconnecting');
    await resubscribed();
    expect(link.subscriber.status).toBe('ready');
    expect(events).toEqual(['close', 'ready']);
  });

  it('asks ioredis to re-read the slots every heartbeat while a shard is not whole, only then', async () => {
    await resubscribed();
    jest.advanceTimersByTime(500);
    const whole = cluster.slotReads;
    jest.advanceTimersByTime(5000);
    expect(cluster.slotReads).toBe(whole); // the idle poll is ioredis's own, every SLOTS_REFRESH_MS

    cluster.subscribers.get('n:2')!.status = 'end';
    cluster.emit('-subscriber');
    jest.advanceTimersByTime(2000);
    expect(cluster.slotReads).toBe(whole + 4);

    cluster.subscribers.get('n:2')!.status = 'ready';
    await resubscribed();
    const reads = cluster.slotReads;
    jest.advanceTimersByTime(2000);
    expect(cluster.slotReads).toBe(reads);
  });

  it('is down while some slot has no primary', async () => {
    await resubscribed();
    cluster.slots[42] = [];
    cluster.emit('refresh');
    expect(link.subscriber.status).toBe('reconnecting');
  });

  it('sends one SSUBSCRIBE per channel (ioredis refuses channels of several slots in one)', async () => {
    await link.subscriber.subscribe('p:{a}', 'p:{b}');
    await link.subscriber.unsubscribe('p:{a}');
    expect(cluster.sent).toEqual([
      ['SSUBSCRIBE', 'p:{a}'],
      ['SSUBSCRIBE', 'p:{b}'],
      ['SUNSUBSCRIBE', 'p:{a}'],
    ]);
  });

  it('counts the commands queued on every primary', () => {
    cluster.masters.get('n:1')!.commandQueue.length = 3;
    cluster.masters.get('n:2')!.commandQueue.length = 4;
    expect(link.publisher.commandQueue.length).toBe(7);
  });

  it('refuses an ioredis without sharded subscribers', () => {
    const bare = Object.assign(new FakeCluster(), { shardedSubscribers: undefined });
    expect(() => new ClusterLink(bare as unknown as ClusterClient)).toThrow(/ioredis 6/);
  });
});

describe('RedisBus on a cluster link', () => {
  let cluster: FakeCluster;
  let bus: RedisBus;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    cluster = new FakeCluster();
    bus = new RedisBus({
      target: TARGET,
      prefix: 'p:',
      instance: 'me',
      maxMessageBytes: 65536,
      maxPendingPublishes: 100,
      clock: new (class extends Clock {
        now = () => 0;
      })(),
      connectCluster: () => cluster as unknown as ClusterClient,
      heartbeatMs: 10,
    });
  });

  afterEach(async () => {
    await bus.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('uses the channel <prefix>{<topic>}, SPUBLISH and SSUBSCRIBE, and delivers smessages', async () => {
    cluster.emit('subscribersReady');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bus.connected).toBe(true);
    expect(bus.sharded).toBe(true);
    const received: unknown[] = [];
    bus.subscribe('channel:x', (message) => received.push(message.data));
    await bus.whenSubscribed('channel:x');
    bus.publish({ topic: 'channel:x', data: 'mine' });
    expect(cluster.sent.map(([command, channel]) => `${command} ${channel}`)).toEqual([
      'SSUBSCRIBE p:{channel:x}',
      'SPUBLISH p:{channel:x}',
    ]);
    const other = new RedisBus({
      target: TARGET,
      prefix: 'p:',
      instance: 'other',
      maxMessageBytes: 65536,
      maxPendingPublishes: 100,
      clock: new (class extends Clock {
        now = () => 0;
      })(),
      connectCluster: () => new FakeCluster() as unknown as ClusterClient,
    });
    const { channel, frame } = other.frameOf({ topic: 'channel:x', data: 'theirs' });
    await other.onApplicationShutdown();
    cluster.emit('smessageBuffer', Buffer.from(channel), Buffer.from(frame));
    // Not on p:channel:x, nor on another deployment's prefix.
    cluster.emit('smessageBuffer', Buffer.from('p:channel:x'), Buffer.from(frame));
    cluster.emit('smessageBuffer', Buffer.from('q:{channel:x}'), Buffer.from(frame));
    expect(received).toEqual(['mine', 'theirs']);
  });
  it('says which shard outage it was: the other shards go on, nothing about output buffers', async () => {
    const warn = jest.mocked(Logger.prototype.warn);
    const log = jest.mocked(Logger.prototype.log);
    cluster.emit('subscribersReady');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bus.connected).toBe(true);

    cluster.subscribers.get('n:2')!.status = 'end';
    cluster.emit('-subscriber');
    expect(bus.connected).toBe(false);
    expect(warn.mock.calls.map(([line]) => String(line))).toEqual([
      expect.stringMatching(
        /^Lost the Redis connection \(a Redis Cluster shard or more\).*the other shards/,
      ),
    ]);

    cluster.subscribers.get('n:2')!.status = 'ready';
    cluster.emit('subscribersReady');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bus.connected).toBe(true);
    const lines = log.mock.calls.map(([line]) => String(line));
    expect(lines.at(-1)).toMatch(/^Redis connection restored after .* \(every Redis Cluster shard/);
    expect(lines.join('\n')).not.toMatch(/output buffer/);
  });
});
