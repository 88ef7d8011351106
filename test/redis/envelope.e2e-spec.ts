import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisBus } from '../../src/bus/redis-bus';
import type { RunningApp } from '../support/app';
import {
  channelsUnder,
  describeWithRedis,
  inspector,
  uniquePrefix,
  waitForSubscribers,
} from '../support/redis';
import { TestClients } from '../support/ws-client';
import {
  busOf,
  expectDistinctInstances,
  httpStatus,
  instanceIdOf,
  redisEnv,
  startInstances,
  waitForReadiness,
} from './instances';

/**
 * What the instances write to Redis, and what they do with what they read there: a versioned
 * envelope on prefix + topic, foreign or malformed input ignored and counted, prefixes apart.
 */
describeWithRedis('the envelope on Redis', (redis) => {
  const prefix = uniquePrefix();
  const otherPrefix = uniquePrefix();
  let a: RunningApp;
  let b: RunningApp;
  let other: RunningApp;
  let observer: Redis;
  let sniffer: Redis;
  const onA = new TestClients(() => a.wsUrl);
  const onB = new TestClients(() => b.wsUrl);
  const onOther = new TestClients(() => other.wsUrl);
  const channel = (topic: string) => prefix + topic;
  const envelope = (data: unknown, origin = 'a-test') => JSON.stringify({ v: 1, origin, data });

  beforeAll(async () => {
    [a, b] = await startInstances(2, redisEnv(redis().url, prefix));
    [other] = await startInstances(1, redisEnv(redis().url, otherPrefix));
    expectDistinctInstances(a, b, other);
    observer = inspector(redis().url);
    sniffer = inspector(redis().url);
    await Promise.all([a, b, other].map((app) => waitForReadiness(app, 200, 5000)));
  });

  afterEach(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll(), onOther.closeAll()]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), other?.close()]);
    observer?.disconnect();
    sniffer?.disconnect();
  });

  it('publishes {v:1, origin, sender, skipSender, data} on prefix + topic', async () => {
    const raw: string[] = [];
    sniffer.on('message', (_channel: string, message: string) => raw.push(message));
    await sniffer.subscribe(channel('room:wire'));
    const [a1] = await onA.openAll('/ws/room/wire');
    const [b1] = await onB.openAll('/ws/room/wire');
    await waitForSubscribers(observer, channel('room:wire'), 3);

    a1.send('on the wire');
    expect(await b1.nextText()).toBe('on the wire');
    // Its reply comes after every message Redis sent the sniffer before: `raw` is complete.
    await sniffer.unsubscribe(channel('room:wire'));
    const instance = instanceIdOf(a);
    expect(raw.map((message) => JSON.parse(message) as unknown)).toEqual([
      {
        v: 1,
        origin: instance,
        sender: expect.stringMatching(new RegExp(`^${instance}\\.`)) as unknown,
        skipSender: true,
        data: 'on the wire',
      },
    ]);
  });

  it('ignores malformed and unknown-version envelopes, counts them, logs once, and keeps delivering', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const [b1] = await onB.openAll('/ws/room/garbage');
      await waitForSubscribers(observer, channel('room:garbage'), 1);
      const bus = busOf(b);
      expect(bus).toBeInstanceOf(RedisBus);
      const malformedBefore = (bus as RedisBus).malformed;

      for (const junk of [
        'not json',
        '[1,2]',
        JSON.stringify({ v: 2, origin: 'the-future', data: 'unknown version' }),
        JSON.stringify({ v: 1, data: 'no origin' }),
        JSON.stringify({ v: 1, origin: 'x', sender: 42, data: 'bad sender' }),
      ]) {
        await observer.publish(channel('room:garbage'), junk);
      }
      await observer.publish(channel('room:garbage'), envelope('valid, from elsewhere'));

      // Redis relays one channel in order: the first frame is the valid one, so the rest was
      // dropped on the way, and the instance is still up.
      expect(await b1.nextText()).toBe('valid, from elsewhere');
      expect((bus as RedisBus).malformed - malformedBefore).toBe(5);
      const reports = warn.mock.calls.filter(([line]) => String(line).startsWith('Ignored'));
      expect(reports).toHaveLength(1);
      expect(await httpStatus(b, '/ready')).toBe(200);
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps deployments with different REDIS_PREFIX apart on one Redis', async () => {
    const [a1] = await onA.openAll('/ws/room/shared');
    const [b1] = await onB.openAll('/ws/room/shared');
    const [o1] = await onOther.openAll('/ws/room/shared');
    await waitForSubscribers(observer, channel('room:shared'), 2);
    await waitForSubscribers(observer, `${otherPrefix}room:shared`, 1);
    expect(await channelsUnder(observer, prefix)).toEqual([channel('room:shared')]);
    expect(await channelsUnder(observer, otherPrefix)).toEqual([`${otherPrefix}room:shared`]);

    a1.send('for this deployment');
    expect(await b1.nextText()).toBe('for this deployment');
    // Published after A's message reached B: had it leaked, it would come first.
    await observer.publish(`${otherPrefix}room:shared`, envelope('marker'));
    expect(await o1.nextText()).toBe('marker');
  });
});
