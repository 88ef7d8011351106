import {
  connectIoredis,
  MAX_RECONNECT_DELAY_MS,
  reconnectDelay,
  redisOptions,
} from './redis-connection';

describe('reconnectDelay', () => {
  it('backs off from 50 ms and never waits more than 1 s, jitter included', () => {
    expect(reconnectDelay(1, () => 0)).toBe(50);
    expect(reconnectDelay(2, () => 0)).toBe(100);
    expect(reconnectDelay(3, () => 0)).toBe(200);
    for (const attempt of [1, 5, 6, 10, 100, 10_000]) {
      expect(reconnectDelay(attempt, () => 0.999_999)).toBeLessThanOrEqual(MAX_RECONNECT_DELAY_MS);
    }
  });

  it('keeps retrying forever (ioredis gives up when the strategy returns no number)', () => {
    const strategy = redisOptions('subscriber', 'i').retryStrategy;
    expect(typeof strategy?.(1_000_000)).toBe('number');
  });
});

describe('REDIS_URL as ioredis reads it', () => {
  it.each([
    ['rediss://switchboard:p%40ss@redis.internal:6380', { username: 'switchboard', tls: {} }],
    ['redis://:p%40ss@redis.internal:6380', { username: '' }],
  ])('%s: credentials decoded, TLS for rediss://', (url, expected) => {
    const client = connectIoredis(url, { ...redisOptions('publisher', 'i'), lazyConnect: true });
    try {
      const { options } = client as unknown as { options: Record<string, unknown> };
      expect(options).toMatchObject({
        host: 'redis.internal',
        port: 6380,
        password: 'p@ss',
        ...expected,
      });
      if (url.startsWith('redis://')) expect(options.tls).toBeUndefined();
    } finally {
      client.disconnect();
    }
  });
});
