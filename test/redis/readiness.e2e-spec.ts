import request from 'supertest';
import { InMemoryBus } from '../../src/bus/in-memory-bus';
import { RedisBus } from '../../src/bus/redis-bus';
import type { Environment } from '../../src/config/load-config';
import { startApp, useApp, type RunningApp } from '../support/app';
import { describeWithRedis, freePort, uniquePrefix } from '../support/redis';
import { busOf, redisEnv, waitForReadiness } from './instances';

/** GET /ready reports whether the bus reaches the other instances; GET /health never changes. */
describe('GET /ready and the bus each configuration gets', () => {
  const started: RunningApp[] = [];
  const start = async (env: Environment = {}) => {
    const running = await startApp(env);
    started.push(running);
    return running;
  };

  afterAll(async () => {
    await Promise.all(started.map((running) => running.close()));
  });

  it('without REDIS_URL: the in-memory bus, always ready, nothing ever dropped', async () => {
    const running = await start();
    expect(busOf(running)).toBeInstanceOf(InMemoryBus);
    expect(busOf(running).dropped).toBe(0);

    const ready = await request(running.server).get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { bus: { status: 'up' } } });
    const health = await request(running.server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });

  it('with REDIS_URL and no Redis there: boots anyway, 503 on /ready, 200 on /health', async () => {
    const port = await freePort(); // nothing listens there
    const running = await start(redisEnv(`redis://127.0.0.1:${port}`, uniquePrefix()));
    expect(busOf(running)).toBeInstanceOf(RedisBus);

    const ready = await request(running.server).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'error', error: { bus: { status: 'down' } } });
    expect(JSON.stringify(ready.body)).not.toContain(String(port)); // no Redis address leaks
    const health = await request(running.server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });
});

describeWithRedis('GET /ready with a reachable Redis', (redis) => {
  const fixture = useApp(() => redisEnv(redis().url, uniquePrefix()));

  it('answers 200 once both connections are up', async () => {
    const { running } = fixture;
    await waitForReadiness(running, 200, 5000);
    const ready = await request(running.server).get('/ready');
    expect(ready.body).toMatchObject({ status: 'ok', info: { bus: { status: 'up' } } });
    expect(busOf(running).connected).toBe(true);
  });
});
