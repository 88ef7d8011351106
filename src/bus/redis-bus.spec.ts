import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { Clock } from '../common/clock';
import type { BusMessage } from './bus';
import { encodeEnvelope } from './envelope';
import { BusFrameCodec } from './bus-frame';
import { EnvironmentVariables } from '../config/environment';
import { PUBLISH_REFUSAL_HOLD_MS, RedisBus, type RedisBusOptions } from './redis-bus';
import type { RedisConnection } from './redis-connection';

const MAX_PENDING_PUBLISHES = new EnvironmentVariables().MAX_PENDING_PUBLISHES;

class FakeClock extends Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
}

/** An ioredis stand-in with ioredis's fail-fast behaviour: commands reject unless "ready". */
class FakeConnection extends EventEmitter implements RedisConnection {
  status = 'connecting';
  readonly commandQueue = { length: 0 };
  evalsha = (): Promise<unknown> => Promise.reject(new Error('not in this fake'));
  eval = (): Promise<unknown> => Promise.reject(new Error('not in this fake'));
  config = (): Promise<unknown> => Promise.reject(new Error('not in this fake'));
  readonly published: [string, string][] = [];
  readonly commands: string[][] = [];
  pings = 0;
  disconnects = 0;
  /** When set, the next commands reject with it (e.g. the connection dropped mid-flight). */
  failure?: Error;
  quitReply: Promise<unknown> = Promise.resolve('OK');

  constructor(readonly options: RedisOptions) {
    super();
  }

  publish(channel: string, message: string): Promise<number> {
    return this.run(() => {
      this.published.push([channel, message]);
      return 1;
    });
  }

  subscribe(...channels: string[]): Promise<unknown> {
    return this.run(() => this.commands.push(['SUBSCRIBE', ...channels]));
  }

  unsubscribe(...channels: string[]): Promise<unknown> {
    return this.run(() => this.commands.push(['UNSUBSCRIBE', ...channels]));
  }

  ping(): Promise<string> {
    return this.run(() => {
      this.pings++;
      return 'PONG';
    });
  }

  quit(): Promise<unknown> {
    return this.quitReply.then((reply) => {
      this.status = 'end';
      return reply;
    });
  }

  disconnect(): void {
    this.disconnects++;
    this.status = 'end';
  }

  up(): void {
    this.status = 'ready';
    this.emit('ready');
  }

  /** A lost connection or a failed attempt, as ioredis reports it. */
  down(error?: Error): void {
    if (error) this.emit('error', error);
    this.status = 'reconnecting';
    this.emit('close');
  }

  receive(channel: string, raw: string): void {
    this.emit('messageBuffer', Buffer.from(channel), Buffer.from(raw));
  }

  private run<T>(command: () => T): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.status !== 'ready') {
      return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue is false"));
    }
    return Promise.resolve(command());
  }
}

/** What ioredis rejects a command with when Redis answers it with an error. */
const noPermission = (command: string): Error =>
  Object.assign(new Error(`NOPERM User sb has no permissions to run the '${command}' command`), {
    name: 'ReplyError',
  });

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.1:6379'), {
    code: 'ECONNREFUSED',
  });

/** Lets rejected commands reach their handlers. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisBus', () => {
  let clock: FakeClock;
  let connections: FakeConnection[];
  let bus: RedisBus;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;
  const publisher = () => connections[0];
  const subscriber = () => connections[1];
  const bothUp = () => connections.forEach((connection) => connection.up());
  const message = (data: string, topic = 't'): BusMessage => ({ topic, data });
  const warnings = () => warn.mock.calls.map((call: unknown[]) => String(call[0]));

  beforeEach(() => {
    clock = new FakeClock();
    connections = [];
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    bus = build();
  });

  /** A bus on fresh fake connections; options override the defaults. */
  function build(options: Partial<RedisBusOptions> = {}): RedisBus {
    connections = [];
    return new RedisBus({
      target: { kind: 'single', url: 'redis://:hunter2@10.0.0.1:6379' },
      prefix: 'p:',
      instance: 'me',
      maxMessageBytes: 65536,
      maxPendingPublishes: MAX_PENDING_PUBLISHES,
      clock,
      connect: (_url, connectionOptions) => {
        const connection = new FakeConnection(connectionOptions);
        connections.push(connection);
        return connection;
      },
      ...options,
    });
  }

  afterEach(async () => {
    await bus.onApplicationShutdown();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('opens exactly one publisher and one subscriber, both failing fast', () => {
    expect(connections).toHaveLength(2);
    for (const { options } of connections) {
      expect(options).toMatchObject({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        lazyConnect: false,
      });
    }
    expect(publisher().options).toMatchObject({
      connectionName: 'switchboard-me-pub',
      autoResubscribe: false,
    });
    expect(subscriber().options).toMatchObject({
      connectionName: 'switchboard-me-sub',
      autoResubscribe: true,
    });
  });

  it('is connected only while both connections are ready', () => {
    expect(bus.connected).toBe(false);
    publisher().up();
    expect(bus.connected).toBe(false);
    subscriber().up();
    expect(bus.connected).toBe(true);
    subscriber().down();
    expect(bus.connected).toBe(false);
  });

  it('delivers locally inside publish and sends one envelope to prefix + topic', () => {
    bothUp();
    const received: BusMessage[] = [];
    bus.subscribe('t', (m) => received.push(m));
    const sent: BusMessage = { topic: 't', data: 'x', sender: 'me.1', skipSender: true };

    bus.publish(sent);

    expect(received).toEqual([sent]);
    expect(publisher().published).toEqual([['p:t', encodeEnvelope('me', sent)]]);
  });

  it('subscribes a channel for the first listener of a topic and unsubscribes after the last', () => {
    bothUp();
    const first = jest.fn();
    const second = jest.fn();
    bus.subscribe('t', first);
    bus.subscribe('t', second);
    bus.subscribe('t', second);
    expect(subscriber().commands).toEqual([['SUBSCRIBE', 'p:t']]);

    bus.unsubscribe('t', first);
    bus.unsubscribe('t', second);
    expect(subscriber().commands).toHaveLength(1);
    bus.unsubscribe('t', second);
    expect(subscriber().commands).toEqual([
      ['SUBSCRIBE', 'p:t'],
      ['UNSUBSCRIBE', 'p:t'],
    ]);
    expect(bus.topicCount).toBe(0);
  });

  it("delivers other instances' envelopes to local listeners and ignores its own echo", () => {
    bothUp();
    const received: BusMessage[] = [];
    bus.subscribe('room:a', (m) => received.push(m));
    const remote: BusMessage = {
      topic: 'room:a',
      data: { n: 1 },
      sender: 'it.4',
      skipSender: true,
    };

    subscriber().receive('p:room:a', encodeEnvelope('me', message('echo', 'room:a')));
    subscriber().receive('p:room:a', encodeEnvelope('it', remote));
    subscriber().receive('other:room:a', encodeEnvelope('it', message('foreign', 'room:a')));

    expect(received).toEqual([remote]);
  });

  it('ignores malformed envelopes: counted, reported at most once per 10 s, never thrown', () => {
    bothUp();
    const listener = jest.fn();
    bus.subscribe('t', listener);

    for (const raw of ['nope', '{"v":9,"origin":"x","data":1}', '{"v":1}']) {
      expect(() => subscriber().receive('p:t', raw)).not.toThrow();
    }
    clock.time += 10_000;
    subscriber().receive('p:t', '[]');

    expect(listener).not.toHaveBeenCalled();
    expect(bus.malformed).toBe(4);
    expect(warnings()).toEqual([
      'Ignored an envelope on "p:t": invalid-json',
      'Ignored an envelope on "p:t": not-an-object (2 more since the last report)',
    ]);
  });

  it('while Redis is away, delivers locally and drops and counts what it cannot send', () => {
    const listener = jest.fn();
    bus.subscribe('t', listener);
    publisher().down(refused());

    bus.publish(message('1'));
    bus.publish(message('2'));

    expect(listener).toHaveBeenCalledTimes(2);
    expect(publisher().published).toEqual([]);
    expect(bus.dropped).toBe(2);
  });

  it('counts a publish lost with the connection as dropped', async () => {
    bothUp();
    publisher().failure = new Error('Connection is closed.');
    bus.publish(message('lost'));
    await settle();
    expect(bus.dropped).toBe(1);
  });

  it('drops instead of queueing when Redis leaves too many publishes unanswered', () => {
    bothUp();
    publisher().commandQueue.length = MAX_PENDING_PUBLISHES;
    bus.publish(message('1'));
    bus.publish(message('2'));
    expect(publisher().published).toEqual([]);
    expect(bus.dropped).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('drops past the configured MAX_PENDING_PUBLISHES, not the default', () => {
    bus = build({ maxPendingPublishes: 5 });
    bothUp();
    publisher().commandQueue.length = 4;
    bus.publish(message('sent'));
    expect(bus.dropped).toBe(0);
    publisher().commandQueue.length = 5;
    bus.publish(message('dropped'));
    expect(bus.dropped).toBe(1);
    expect(warnings()).toContainEqual(expect.stringContaining('Redis has 5 publishes unanswered'));
  });

  it('settles, once ready again, the subscriptions that changed while the subscriber was down', async () => {
    bothUp();
    const listener = jest.fn();
    bus.subscribe('kept', listener);
    bus.subscribe('left', listener);
    subscriber().down();

    bus.unsubscribe('left', listener);
    bus.subscribe('joined', listener);
    bus.subscribe('came-and-went', listener);
    bus.unsubscribe('came-and-went', listener);
    await settle();
    subscriber().commands.length = 0;
    subscriber().up();

    // "kept" is ioredis's to resubscribe (autoResubscribe); "left" it may resubscribe too.
    expect(subscriber().commands).toEqual([
      ['SUBSCRIBE', 'p:joined'],
      ['UNSUBSCRIBE', 'p:left', 'p:came-and-went'],
    ]);
  });

  it('retries on the next ready a SUBSCRIBE that the dropped connection rejected', async () => {
    bothUp();
    subscriber().failure = new Error('Connection is closed.');
    bus.subscribe('t', jest.fn());
    subscriber().down();
    await settle();
    subscriber().failure = undefined;
    subscriber().commands.length = 0;

    subscriber().up();

    expect(subscriber().commands).toEqual([['SUBSCRIBE', 'p:t']]);
  });

  it('leaves no unhandled rejection when an UNSUBSCRIBE fails (the connection dropped)', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      bothUp();
      const listener = jest.fn();
      bus.subscribe('t', listener);
      await settle();
      subscriber().failure = new Error('Connection is closed.');
      bus.unsubscribe('t', listener);
      await settle();
      await settle();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('logs one warning per outage, whatever the retries, and one line when it ends', () => {
    bothUp();
    expect(log).toHaveBeenCalledWith('Connected to Redis (channel prefix "p:")');

    publisher().down();
    subscriber().down();
    for (let attempt = 0; attempt < 5; attempt++) {
      publisher().down(refused());
      subscriber().down(refused());
    }
    bus.publish(message('dropped'));
    clock.time += 2_500;
    publisher().up();
    subscriber().up();

    expect(warn).toHaveBeenCalledTimes(1);
    expect(warnings()[0]).toMatch(/^Lost the Redis connection: /);
    expect(log).toHaveBeenLastCalledWith(
      'Redis connection restored after 2.5 s; 1 publish(es) dropped meanwhile',
    );

    publisher().down(refused());
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('warns once when Redis cannot be reached at boot, naming the error code only', () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      publisher().down(refused());
      subscriber().down(refused());
    }
    expect(warn).toHaveBeenCalledTimes(1);
    const [line] = warnings();
    expect(line).toMatch(/^Cannot reach Redis \(ECONNREFUSED\): /);
    expect(line).not.toMatch(/hunter2|10\.0\.0\.1/);
  });

  it('masks a Redis URL in an error without a code', () => {
    bothUp();
    publisher().down(new Error('Failed to refresh redis://:hunter2@10.0.0.1:6379 slots'));
    expect(warnings()).toEqual([
      expect.stringMatching(/^Lost the Redis connection \(Failed to refresh <redis url> slots\): /),
    ]);
  });

  it('pings both ready connections every heartbeat', async () => {
    await bus.onApplicationShutdown();
    jest.useFakeTimers();
    bus = build({ heartbeatMs: 1000 });
    publisher().up();
    jest.advanceTimersByTime(2000);
    expect(connections.map((connection) => connection.pings)).toEqual([2, 0]);
  });

  it('quits ready connections on shutdown and closes the others at once, silently', async () => {
    publisher().up();
    subscriber().down(refused());
    warn.mockClear();

    await bus.onApplicationShutdown();

    expect(connections.map((connection) => connection.status)).toEqual(['end', 'end']);
    expect(subscriber().disconnects).toBe(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('does not wait more than 500 ms for an unanswered QUIT', async () => {
    bothUp();
    jest.useFakeTimers();
    publisher().quitReply = new Promise(() => undefined);
    subscriber().quitReply = new Promise(() => undefined);

    const closed = bus.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(500);
    await closed;

    expect(connections.map((connection) => connection.disconnects)).toEqual([1, 1]);
  });

  it('refuses frames over the size limit or nested too deep, counting each, and keeps delivering', () => {
    bus = build({ maxMessageBytes: 100_000 });
    bothUp();
    const received: unknown[] = [];
    bus.subscribe('chat', (m) => received.push(m.data));
    const deep = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;

    for (const raw of [
      encodeEnvelope('it', { topic: 'chat', data: 'x'.repeat(1_000_000) }),
      `{"v":1,"origin":"it","data":${deep}}`,
      encodeEnvelope('it', { topic: 'chat', data: 'fine' }),
    ]) {
      expect(() => subscriber().receive('p:chat', raw)).not.toThrow();
    }

    expect(received).toEqual(['fine']);
    expect(bus.problemCounts.rejected).toEqual(
      new Map([
        ['too-large', 1],
        ['too-deep', 1],
      ]),
    );
    expect(warnings()).toEqual(['Ignored an envelope on "p:chat": too-large']);
  });

  it('with a secret, signs what it publishes and drops and counts unsigned or forged frames', () => {
    const secret = 'a-bus-secret-of-at-least-32-chars!';
    bus = build({ secret });
    bothUp();
    const received: unknown[] = [];
    bus.subscribe('chat', (m) => received.push(m.data));
    const peer = new BusFrameCodec({ instance: 'it', secret, maxBytes: 1_000_000 });
    const forged = encodeEnvelope('it', { topic: 'chat', data: 'Client admin: obey' });

    bus.publish(message('mine', 'chat'));
    subscriber().receive('p:chat', forged);
    subscriber().receive('p:chat', `${'a'.repeat(64)}.${forged}`);
    subscriber().receive('p:chat', peer.encode('p:chat', message('signed', 'chat')));

    expect(publisher().published[0][1]).toMatch(/^[0-9a-f]{64}\.\{"v":1,"origin":"me",/);
    expect(received).toEqual(['mine', 'signed']);
    expect(bus.problemCounts.rejected).toEqual(
      new Map([
        ['unsigned', 1],
        ['bad-signature', 1],
      ]),
    );
  });

  it('recognises its own frames coming back without decoding them', () => {
    bothUp();
    const listener = jest.fn();
    bus.subscribe('t', listener);
    bus.publish(message('once'));
    const parse = jest.spyOn(JSON, 'parse');
    subscriber().receive('p:t', publisher().published[0][1]);
    expect(parse).not.toHaveBeenCalled();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('logs and counts a refused PUBLISH and is not ready until one succeeds or 10 s pass', async () => {
    bothUp();
    publisher().failure = noPermission('publish');
    bus.publish(message('denied'));
    bus.publish(message('denied again'));
    await settle();

    expect(bus.dropped).toBe(2);
    expect(bus.problemCounts.commandErrors).toEqual(new Map([['PUBLISH', 2]]));
    expect(warnings()).toEqual([
      expect.stringMatching(/^Redis refused PUBLISH \(NOPERM User sb has no permissions/),
    ]);
    expect(bus.connected).toBe(true);
    expect(bus.problem).toMatch(/refuses PUBLISH/);

    clock.time += PUBLISH_REFUSAL_HOLD_MS;
    expect(bus.problem).toBeUndefined();

    bus.publish(message('denied'));
    await settle();
    expect(bus.problem).toMatch(/refuses PUBLISH/);
    publisher().failure = undefined;
    bus.publish(message('allowed'));
    await settle();
    expect(bus.problem).toBeUndefined();
  });

  it('logs and counts a refused SUBSCRIBE, is not ready, and retries it every heartbeat', async () => {
    await bus.onApplicationShutdown();
    jest.useFakeTimers();
    bus = build({ heartbeatMs: 500 });
    bothUp();
    subscriber().failure = noPermission('subscribe');
    bus.subscribe('t', jest.fn());
    await jest.advanceTimersByTimeAsync(0);

    expect(bus.problemCounts.commandErrors).toEqual(new Map([['SUBSCRIBE', 1]]));
    expect(warnings()).toEqual([expect.stringMatching(/^Redis refused SUBSCRIBE \(NOPERM/)]);
    expect(bus.problem).toMatch(/refuses SUBSCRIBE/);

    await jest.advanceTimersByTimeAsync(500);
    expect(bus.problemCounts.commandErrors).toEqual(new Map([['SUBSCRIBE', 2]]));

    subscriber().failure = undefined;
    await jest.advanceTimersByTimeAsync(500);
    expect(subscriber().commands).toEqual([['SUBSCRIBE', 'p:t']]);
    expect(bus.problem).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1000);
    expect(subscriber().commands).toHaveLength(1);
  });

  it('counts a lost subscriber apart from dropped publishes and says what it may have lost', () => {
    bothUp();
    subscriber().down(new Error('Connection is closed.'));
    clock.time += 100;
    subscriber().up();
    subscriber().down();
    subscriber().down();

    expect(bus.problemCounts.subscriberDisconnects).toBe(2);
    expect(bus.dropped).toBe(0);
    expect(warnings()[0]).toMatch(
      /^Lost the Redis connection \(Connection is closed\.\): .*what the other instances publish meanwhile is lost for this one/,
    );
    expect(log).toHaveBeenCalledWith(
      expect.stringMatching(
        /^Redis subscriber connection restored after 0\.1 s; what the other instances published meanwhile did not reach this one \(if Redis logged "output buffer limits"/,
      ),
    );
    expect(log.mock.calls.map((call: unknown[]) => String(call[0]))).not.toContainEqual(
      expect.stringMatching(/publish\(es\) dropped/),
    );
  });

  describe('history frames (channel history)', () => {
    it('delivers #<epoch>:<offset>:<frame> with its position, its own echo included', () => {
      bothUp();
      const received: BusMessage[] = [];
      bus.subscribe('channel:c', (m) => received.push(m));
      const { channel, frame } = bus.frameOf({ topic: 'channel:c', data: 'mine', sender: 'me.1' });
      expect(channel).toBe('p:channel:c');
      subscriber().receive(channel, `#E1:7:${frame}`);
      expect(received).toEqual([
        { topic: 'channel:c', data: 'mine', sender: 'me.1', epoch: 'E1', offset: 7 },
      ]);
    });

    it.each(['#:7:', '#E1:0:', '#E1:x:', '#E1 7:', '#E1:7'])(
      'refuses a history frame whose header is %j, counted as invalid-field',
      (header) => {
        bothUp();
        const received = jest.fn();
        bus.subscribe('channel:c', received);
        const { channel, frame } = bus.frameOf({ topic: 'channel:c', data: 'x' });
        subscriber().receive(channel, `${header}${frame}`);
        expect(received).not.toHaveBeenCalled();
        expect(bus.problemCounts.rejected.get('invalid-field')).toBe(1);
      },
    );

    it('holds a history frame to BUS_SECRET: an unsigned one is refused', () => {
      bus = build({ secret: 's'.repeat(32) });
      bothUp();
      const received = jest.fn();
      bus.subscribe('channel:c', received);
      subscriber().receive(
        'p:channel:c',
        `#E1:1:${encodeEnvelope('other', { topic: 'x', data: 1 })}`,
      );
      expect(received).not.toHaveBeenCalled();
      expect(bus.problemCounts.rejected.get('unsigned')).toBe(1);
    });

    it('resolves whenSubscribed once Redis confirms the SUBSCRIBE, and refuses while down', async () => {
      bothUp();
      await expect(bus.whenSubscribed('channel:c')).rejects.toThrow('not subscribed');
      bus.subscribe('channel:c', jest.fn());
      await expect(bus.whenSubscribed('channel:c')).resolves.toBeUndefined();
      subscriber().down();
      bus.subscribe('channel:d', jest.fn());
      await expect(bus.whenSubscribed('channel:d')).rejects.toThrow('not subscribed');
    });

    it('calls the resume listeners when the subscriber is back after a loss, not at first connect', async () => {
      const resumed = jest.fn();
      bus.onResume(resumed);
      bothUp();
      await settle();
      expect(resumed).not.toHaveBeenCalled();
      subscriber().down();
      subscriber().up();
      await settle();
      expect(resumed).toHaveBeenCalledTimes(1);
    });
  });
});
