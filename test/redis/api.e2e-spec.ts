import request from 'supertest';
import { TokenSigner } from '../../src/auth/token-signer';
import { SystemClock } from '../../src/common/clock';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis } from '../support/redis-deployment';
import { redisEnv, waitForReadiness } from './instances';
import { useTwoInstances } from './two-instances';

const JWT_SECRET = 'redis-api-jwt-secret';
const ADMIN = 'admin-secret-0123456789';
const signer = new TokenSigner({ secret: JWT_SECRET }, new SystemClock());

describeWithEachRedis('HTTP API on Redis, two instances', (redis) => {
  const instances = useTwoInstances(() => ({
    ...redisEnv(redis().address, uniquePrefix()),
    BUS_SECRET: 'b'.repeat(32),
    JWT_SECRET,
    API_KEYS: `ops:${ADMIN}`,
    API_RATE_LIMIT: '20',
  }));
  const publish = (server: 'a' | 'b', channel: string, idempotencyKey: string) =>
    request(instances[server]().server)
      .post('/api/publish')
      .set('X-API-Key', ADMIN)
      .set('Idempotency-Key', idempotencyKey)
      .send({ channel, message: 'once' });

  it('publishes once for an Idempotency-Key retried on the other instance', async () => {
    const first = await publish('a', 'idem', 'order-1');
    expect(first.status).toBe(200);
    const retry = await publish('b', 'idem', 'order-1');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    const history = await request(instances.b().server)
      .get('/api/channels/idem/history')
      .set('X-API-Key', ADMIN);
    expect(history.body).toEqual({
      channel: 'idem',
      epoch: (first.body as { epoch: string }).epoch,
      offset: 1,
      publications: [{ offset: 1, message: 'once' }],
    });
  });

  it('publishes once when duplicates reach both instances at the same time', async () => {
    const responses = await Promise.all([
      publish('a', 'idem-race', 'order-2'),
      publish('b', 'idem-race', 'order-2'),
      publish('a', 'idem-race', 'order-2'),
      publish('b', 'idem-race', 'order-2'),
    ]);
    for (const response of responses) expect(response.body).toEqual(responses[0].body);
    expect(responses[0].body).toMatchObject({ offset: 1 });
  });

  it('delivers an API publish to subscribers of both instances', async () => {
    const [onA, onB] = await Promise.all([
      instances.open(instances.onA),
      instances.open(instances.onB),
    ]);
    await onA.subscribe('both');
    await onB.subscribe('both');
    const response = await publish('b', 'both', 'deliver-1');
    const { offset } = response.body as { offset: number };
    for (const client of [onA, onB]) {
      await client.readUntil(() => client.deliveries.length > 0);
      expect(client.deliveries).toEqual([{ channel: 'both', message: 'once', offset }]);
    }
  });

  it("closes the user's sockets on every instance and counts them", async () => {
    const token = signer.sign({ sub: 'alice' }, 60);
    const sockets = await Promise.all([
      instances.onA.open(`/ws/json?token=${token}`),
      instances.onB.open(`/ws/json?token=${token}`),
      instances.onB.open(`/ws/secure?token=${token}`),
    ]);
    const bob = await instances.onB.open(`/ws/json?token=${signer.sign({ sub: 'bob' }, 60)}`);
    const started = Date.now();
    const response = await request(instances.a().server)
      .post('/api/disconnect')
      .set('X-API-Key', ADMIN)
      .send({ user: 'alice' });
    expect(response.body).toEqual({ disconnected: 3 });
    for (const socket of sockets) {
      expect(await socket.closed()).toEqual({ code: 1008, reason: 'Disconnected by server' });
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(bob.closeStatus).toBeUndefined();
  });
});

describeWithEachRedis('HTTP API rate limit on Redis, two instances', (redis) => {
  const instances = useTwoInstances(() => ({
    ...redisEnv(redis().address, uniquePrefix()),
    API_KEYS: `ops:${ADMIN}`,
    API_RATE_LIMIT: '2',
  }));
  const read = (server: 'a' | 'b') =>
    request(instances[server]().server).get('/api/channels/x/history').set('X-API-Key', ADMIN);

  it("shares each key's budget between the instances", async () => {
    expect((await read('a')).status).toBe(200);
    expect((await read('b')).status).toBe(200);
    const refused = await read('a');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await read('b')).status).toBe(429);
  });
});

describeWithEachRedis(
  'HTTP API while Redis is down',
  (redis) => {
    const instances = useTwoInstances(() => ({
      ...redisEnv(redis().address, uniquePrefix()),
      API_KEYS: `ops:${ADMIN}`,
    }));
    const call = (path: string, body?: object) => {
      const api = request(instances.a().server);
      const sent = body ? api.post(path).send(body) : api.get(path);
      return sent.set('X-API-Key', ADMIN);
    };

    afterAll(async () => {
      await redis().restart();
    });

    it('answers 503 {"error":"Bus unavailable"} and delivers nothing', async () => {
      expect((await call('/api/publish', { channel: 'down', message: 1 })).status).toBe(200);
      await redis().kill();
      await waitForReadiness(instances.a(), 503, 5000);
      for (const response of [
        await call('/api/publish', { channel: 'down', message: 2 }),
        await call('/api/channels/down/history'),
        await call('/api/channels/down/presence'),
      ]) {
        expect(response.status).toBe(503);
        expect(response.body).toEqual({ error: 'Bus unavailable' });
      }
      const broadcast = await call('/api/broadcast', { channels: ['down'], message: 3 });
      expect(broadcast.status).toBe(200);
      expect(broadcast.body).toEqual({ results: [{ channel: 'down', error: 'Bus unavailable' }] });
    });
  },
  { ownServer: true },
);
