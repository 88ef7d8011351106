import { GUARDS_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { HttpThrottlerGuard } from '../src/limits/http-throttler.guard';
import { useApp } from './support/app';

const MAX = 3;
const WINDOW_MS = 60_000;

const devToken = (server: Parameters<typeof request>[0], forwardedFor?: string) => {
  const post = request(server).post('/auth/dev-token');
  if (forwardedFor !== undefined) post.set('X-Forwarded-For', forwardedFor);
  return post.send({ sub: 'alice' });
};

/** HTTP routes under @nestjs/throttler's ThrottlerGuard, with RATE_LIMIT_MAX=3 per minute. */
describe(`HTTP rate limit (RATE_LIMIT_MAX=${MAX}, RATE_LIMIT_WINDOW_MS=${WINDOW_MS})`, () => {
  const fixture = useApp({ RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });

  it('answers POST /auth/dev-token MAX times, then 429 with Retry-After', async () => {
    const { server } = fixture.running;
    for (let i = 1; i <= MAX; i++) {
      const response = await devToken(server);
      expect(response.status).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBe(String(MAX));
      expect(response.headers['x-ratelimit-remaining']).toBe(String(MAX - i));
    }
    const refused = await devToken(server);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      statusCode: 429,
      message: 'ThrottlerException: Too Many Requests',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
  });

  it('counts each route on its own: the console page still loads', async () => {
    const { server } = fixture.running;
    for (let i = 0; i < MAX; i++) expect((await request(server).get('/')).status).toBe(200);
    expect((await request(server).get('/')).status).toBe(429);
    expect((await request(server).get('/console.js')).status).toBe(200);
  });

  it.each(['/health', '/ready', '/metrics'])('never limits %s', async (path) => {
    const { server } = fixture.running;
    for (let i = 0; i < 3 * MAX; i++) {
      const response = await request(server).get(path);
      expect(response.status).toBe(200);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('throttles every HTTP controller, or the controller says @SkipThrottle()', () => {
    const unthrottled: string[] = [];
    for (const module of fixture.running.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (typeof metatype !== 'function') continue;
        const guards = (Reflect.getMetadata(GUARDS_METADATA, metatype) ?? []) as unknown[];
        const skipped = Reflect.getMetadata('THROTTLER:SKIPdefault', metatype) === true;
        if (!guards.includes(HttpThrottlerGuard) && !skipped) unthrottled.push(metatype.name);
      }
    }
    expect(unthrottled).toEqual([]);
  });
});

describe('HTTP rate limit behind a proxy (TRUST_PROXY=true)', () => {
  const fixture = useApp({
    RATE_LIMIT_MAX: '1',
    RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    TRUST_PROXY: 'true',
  });

  it('counts each forwarded client IP on its own', async () => {
    const { server } = fixture.running;
    expect((await devToken(server, '203.0.113.1')).status).toBe(200);
    expect((await devToken(server, '203.0.113.1, 10.0.0.1')).status).toBe(429);
    expect((await devToken(server, '203.0.113.2')).status).toBe(200);
  });
});
