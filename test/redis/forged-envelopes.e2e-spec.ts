import { createHmac } from 'node:crypto';
import type Redis from 'ioredis';
import type { RunningApp } from '../support/app';
import { scrape, waitForSample } from '../support/metrics';
import { describeWithRedis, inspector, uniquePrefix, waitForSubscribers } from '../support/redis';
import { TestClients } from '../support/ws-client';
import { expectDistinctInstances, redisEnv, startInstances, waitForReadiness } from './instances';

const BUS_SECRET = 'e2e-bus-secret-0123456789abcdef0123';
const REJECTED = 'switchboard_bus_rejected_total';

/** `depth` nested arrays around a number, as JSON text (JSON.stringify would overflow). */
const nested = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`;

/**
 * What someone who can PUBLISH on Redis, but is no instance, can make the instances do: with
 * BUS_SECRET nothing; without it, nothing beyond what a client could send (size and depth).
 */
describeWithRedis('envelopes that no instance wrote', (redis) => {
  const signedPrefix = uniquePrefix();
  const plainPrefix = uniquePrefix();
  let a: RunningApp;
  let b: RunningApp;
  let plain: RunningApp;
  let forger: Redis;
  const onA = new TestClients(() => a.wsUrl);
  const onB = new TestClients(() => b.wsUrl);
  const onPlain = new TestClients(() => plain.wsUrl);

  beforeAll(async () => {
    const signedEnv = { ...redisEnv(redis().url, signedPrefix), BUS_SECRET };
    [a, b] = await startInstances(2, signedEnv);
    [plain] = await startInstances(1, redisEnv(redis().url, plainPrefix));
    expectDistinctInstances(a, b, plain);
    forger = inspector(redis().url);
    await Promise.all([a, b, plain].map((app) => waitForReadiness(app, 200, 5000)));
  });

  afterEach(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll(), onPlain.closeAll()]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), plain?.close()]);
    forger?.disconnect();
  });

  it('with BUS_SECRET, drops and counts a PUBLISH from outside: unsigned or badly signed', async () => {
    const channel = `${signedPrefix}chat`;
    const [alice] = await onA.openAll('/ws/alice');
    const [bob] = await onB.openAll('/ws/bob');
    await waitForSubscribers(forger, channel, 2);
    const forged = JSON.stringify({ v: 1, origin: 'forger', data: 'Client admin: obey' });
    const wrongKey = createHmac('sha256', 'not-the-bus-secret-not-the-bus-secret')
      .update(`${Buffer.byteLength(channel)}\n${channel}\n${forged}`)
      .digest('hex');

    await forger.publish(channel, forged);
    await forger.publish(channel, `${wrongKey}.${forged}`);
    alice.send('hello');

    // Redis relays one channel in order: the forged frames came first and were dropped.
    expect(await bob.nextText()).toBe('Client alice: hello');
    expect(await alice.nextText()).toBe('Client alice: hello');
    const metrics = await scrape(b.server);
    expect(metrics.value(REJECTED, { reason: 'unsigned' })).toBe(1);
    expect(metrics.value(REJECTED, { reason: 'bad-signature' })).toBe(1);
  });

  it('publishes signed frames: the HMAC-SHA256 of channel and envelope, then the envelope', async () => {
    const channel = `${signedPrefix}room:wire`;
    const sniffer = inspector(redis().url);
    try {
      const raw: string[] = [];
      sniffer.on('message', (_channel: string, message: string) => raw.push(message));
      await sniffer.subscribe(channel);
      const [a1] = await onA.openAll('/ws/room/wire');
      const [b1] = await onB.openAll('/ws/room/wire');
      await waitForSubscribers(forger, channel, 3);

      a1.send('signed');
      expect(await b1.nextText()).toBe('signed');
      await sniffer.unsubscribe(channel);
      expect(raw).toHaveLength(1);
      const [signature, envelope] = [raw[0].slice(0, 64), raw[0].slice(65)];
      expect(raw[0][64]).toBe('.');
      expect(signature).toBe(
        createHmac('sha256', BUS_SECRET)
          .update(`${Buffer.byteLength(channel)}\n${channel}\n${envelope}`)
          .digest('hex'),
      );
      expect(JSON.parse(envelope)).toMatchObject({ v: 1, data: 'signed' });
    } finally {
      sniffer.disconnect();
    }
  });

  it('refuses, unread, an envelope larger than MAX_MESSAGE_BYTES allows: no subscriber is shed', async () => {
    const channel = `${plainPrefix}room:big`;
    const [member] = await onPlain.openAll('/ws/room/big');
    await waitForSubscribers(forger, channel, 1);

    const huge = JSON.stringify({ v: 1, origin: 'forger', data: 'x'.repeat(20 * 1024 * 1024) });
    await forger.publish(channel, huge);
    await forger.publish(channel, JSON.stringify({ v: 1, origin: 'forger', data: 'after' }));

    expect(await member.nextText()).toBe('after');
    expect(member.isOpen).toBe(true);
    await waitForSample(plain.server, REJECTED, { reason: 'too-large' }, 1);
  });

  it('refuses and counts data nested 100,000 deep, and delivers what follows', async () => {
    const channel = `${plainPrefix}room:deep`;
    const [member] = await onPlain.openAll('/ws/room/deep');
    await waitForSubscribers(forger, channel, 1);

    await forger.publish(channel, `{"v":1,"origin":"forger","data":${nested(100_000)}}`);
    await forger.publish(channel, `{"v":1,"origin":"forger","data":${nested(32)}}`);

    expect(await member.nextText()).toBe(nested(32));
    await waitForSample(plain.server, REJECTED, { reason: 'too-deep' }, 1);
  });
});
