import { connect } from 'node:net';
import type { RunningApp } from '../support/app';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis } from '../support/redis-deployment';
import {
  attemptUpgrade,
  closeAll,
  statuses,
  type UpgradeAttempt,
} from '../support/upgrade-attempt';
import { waitUntil, withTimeout, WAIT_MS } from '../support/wait';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { UpgradeLimits } from '../../src/limits/upgrade-limits';
import { instanceIdOf, redisEnv, startInstances } from './instances';

const RATE = { CONNECT_RATE_LIMIT: '4', CONNECT_RATE_WINDOW_MS: '60000' };

let opened: UpgradeAttempt[] = [];
afterEach(async () => {
  await closeAll(opened);
  opened = [];
});

/**
 * Resolves once the instance's limits connection to Redis is ready: until then (as during an
 * outage) upgrades are let through uncounted.
 */
function limitsConnected(running: RunningApp): Promise<string> {
  const storage = running.app.get<ThrottlerStorageRedisService>(ThrottlerStorage);
  return waitUntil(
    () => Promise.resolve(storage.redis.status),
    (status) => status === 'ready',
    'the limits connection to Redis',
    5000,
  );
}

async function upgradeTo(running: RunningApp): Promise<number> {
  const attempt = await attemptUpgrade(`${running.wsUrl}/ws`);
  opened.push(attempt);
  return attempt.status;
}

describeWithEachRedis('CONNECT_RATE_LIMIT across instances', (redis) => {
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    [a, b] = await startInstances(2, { ...redisEnv(redis().address, uniquePrefix()), ...RATE });
    await Promise.all([limitsConnected(a), limitsConnected(b)]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('holds one budget per IP for both instances sharing the Redis', async () => {
    const answers = [];
    for (const running of [a, b, a, b, a, b]) answers.push(await upgradeTo(running));
    // 4 allowed in all: with a budget per instance, the 5th and 6th would be 101 too.
    expect(answers).toEqual([101, 101, 101, 101, 429, 429]);
    expect(a.app.get(UpgradeLimits).connectRate?.failures).toBe(0);
  });

  it('keeps the budget of one deployment apart from another (REDIS_PREFIX)', async () => {
    const [other] = await startInstances(1, {
      ...redisEnv(redis().address, uniquePrefix()),
      ...RATE,
    });
    try {
      await limitsConnected(other);
      expect(await upgradeTo(other)).toBe(101);
    } finally {
      await closeAll(opened);
      await other.close();
    }
  });

  it('uses one Redis connection per instance for the limits, closed with the app', async () => {
    const observer = redis().observe();
    try {
      const [running] = await startInstances(1, {
        ...redisEnv(redis().address, uniquePrefix()),
        ...RATE,
      });
      const id = instanceIdOf(running);
      await waitUntil(
        () => observer.connectionNamesOf(id),
        (names) => names.some((name) => name.endsWith(`switchboard-${id}-limits`)),
        'the limits connection',
      );
      await running.close();
      await waitUntil(
        () => observer.connectionNamesOf(id),
        (names) => names.length === 0,
        'every connection of the closed instance to go',
      );
    } finally {
      observer.disconnect();
    }
  });
});

describeWithEachRedis(
  'CONNECT_RATE_LIMIT while Redis is unreachable',
  (redis) => {
    let running: RunningApp;

    beforeAll(async () => {
      [running] = await startInstances(1, {
        ...redisEnv(redis().address, uniquePrefix()),
        CONNECT_RATE_LIMIT: '1',
        CONNECT_RATE_WINDOW_MS: '60000',
        LOG_LEVEL: 'error',
      });
      await limitsConnected(running);
    });

    afterAll(async () => {
      await running?.close();
    });

    it('fails open: a frozen Redis delays upgrades by the storage timeout, never blocks them', async () => {
      expect(await upgradeTo(running)).toBe(101);
      expect(await upgradeTo(running)).toBe(429);

      redis().pause();
      try {
        const started = Date.now();
        for (let i = 0; i < 3; i++) {
          opened.push(await withTimeout(attemptUpgrade(`${running.wsUrl}/ws`), 2000, 'upgrade'));
        }
        expect(statuses(opened.slice(2))).toEqual([101, 101, 101]);
        // Each waited at most CONNECT_RATE_STORAGE_TIMEOUT_MS (250 ms by default) for Redis.
        expect(Date.now() - started).toBeLessThan(1500);
      } finally {
        redis().resume();
      }
      expect(running.app.get(UpgradeLimits).connectRate?.failures).toBeGreaterThanOrEqual(3);
    });

    it('survives a client that resets while its upgrade waits for Redis', async () => {
      const port = Number(new URL(running.httpUrl).port);
      redis().pause();
      try {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        const upgrading = withTimeout(
          new Promise((resolve) => running.server.once('upgrade', resolve)),
          WAIT_MS,
          'the upgrade request to reach the server',
        );
        socket.write(
          'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        await upgrading;
        socket.resetAndDestroy();
        // Past the storage timeout: the server decided about the reset socket and goes on. A
        // real-time wait: that timeout is a real timer racing a Redis process that is frozen.
        await new Promise((resolve) => setTimeout(resolve, 400));
      } finally {
        redis().resume();
      }
      // Still serving (the INCRs Redis got while frozen may have used up the budget).
      expect([101, 429]).toContain(await upgradeTo(running));
    });

    it('fails open at once while Redis is down, and limits again once it is back', async () => {
      await redis().kill();
      try {
        const started = Date.now();
        expect(await upgradeTo(running)).toBe(101);
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await redis().restart();
      }
      // Back: the budget of 1 is counted again (a fresh Redis, so one more is allowed).
      await waitUntil(
        async () => {
          const attempt = await attemptUpgrade(`${running.wsUrl}/ws`);
          opened.push(attempt);
          return attempt.status;
        },
        (status) => status === 429,
        'the limit to apply again',
        5000,
      );
    });
  },
  { ownServer: true },
);
