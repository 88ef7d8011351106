import { ConnectionRegistry } from '../src/connections/connection-registry';
import { UpgradeLimits } from '../src/limits/upgrade-limits';
import { useApp, type RunningApp } from './support/app';
import {
  attemptUpgrade,
  attemptUpgrades,
  closeAll,
  statuses,
  type UpgradeAttempt,
} from './support/upgrade-attempt';
import { waitForValue } from './support/wait';

/** Opened by the test running now; closed after it, whatever happened. */
let opened: UpgradeAttempt[] = [];

async function upgrades(
  url: string,
  count: number,
  options?: Parameters<typeof attemptUpgrades>[2],
): Promise<number[]> {
  const attempts = await attemptUpgrades(url, count, options);
  opened.push(...attempts);
  return statuses(attempts);
}

/**
 * useApp with `env` for the enclosing describe block, and the test's raw upgrade attempts
 * closed after each test, before useApp waits for the server to see every socket go.
 */
function useLimitedApp(env: Record<string, string>): () => RunningApp {
  afterEach(async () => {
    await closeAll(opened);
    opened = [];
  });
  const fixture = useApp(env);
  return () => fixture.running;
}

describe('per-IP limits on WebSocket upgrades', () => {
  describe('with both limits at their default (0, off)', () => {
    const app = useLimitedApp({});

    it('lets one IP reconnect and hold sockets without limit', async () => {
      const url = `${app().wsUrl}/ws`;
      expect(await upgrades(url, 40)).toEqual(Array<number>(40).fill(101));
    });
  });

  describe('CONNECT_RATE_LIMIT=3 per 60 s', () => {
    const app = useLimitedApp({ CONNECT_RATE_LIMIT: '3', CONNECT_RATE_WINDOW_MS: '60000' });

    it('answers 429 to the 4th upgrade from one IP, even after closing the first ones', async () => {
      const url = `${app().wsUrl}/ws`;
      const first = await upgrades(url, 3);
      expect(first).toEqual([101, 101, 101]);
      await closeAll(opened);
      expect(await upgrades(url, 2)).toEqual([429, 429]);
      // Another client IP has its own budget.
      expect(await upgrades(url, 3, { localAddress: '127.0.0.2' })).toEqual([101, 101, 101]);
      expect(await upgrades(`${app().wsUrl}/ws/json`, 1, { localAddress: '127.0.0.2' })).toEqual([
        429,
      ]);
    });

    it('ignores X-Forwarded-For without TRUST_PROXY', async () => {
      const url = `${app().wsUrl}/ws`;
      const spoofed = await upgrades(url, 1, {
        localAddress: '127.0.0.3',
        forwardedFor: '198.51.100.1',
      });
      expect(spoofed).toEqual([101]);
      for (const hop of ['198.51.100.2', '198.51.100.3', '198.51.100.4']) {
        opened.push(await attemptUpgrade(url, { localAddress: '127.0.0.3', forwardedFor: hop }));
      }
      expect(statuses(opened)).toEqual([101, 101, 101, 429]);
    });
  });

  describe('CONNECT_RATE_LIMIT=2 with TRUST_PROXY=true', () => {
    const app = useLimitedApp({
      CONNECT_RATE_LIMIT: '2',
      CONNECT_RATE_WINDOW_MS: '60000',
      TRUST_PROXY: 'true',
    });

    it('counts the first X-Forwarded-For hop, not the proxy', async () => {
      const url = `${app().wsUrl}/ws`;
      const client = { forwardedFor: '203.0.113.7, 10.0.0.1' };
      expect(await upgrades(url, 3, client)).toEqual([101, 101, 429]);
      // Same proxy (127.0.0.1), another client behind it.
      expect(await upgrades(url, 2, { forwardedFor: '203.0.113.8, 10.0.0.1' })).toEqual([101, 101]);
      // Without the header the socket's address counts.
      expect(await upgrades(url, 3)).toEqual([101, 101, 429]);
    });
  });

  describe('MAX_CONNECTIONS_PER_IP=2', () => {
    const app = useLimitedApp({ MAX_CONNECTIONS_PER_IP: '2' });

    it('answers 429 past 2 open sockets from one IP and admits again after a close', async () => {
      const url = `${app().wsUrl}/ws`;
      expect(await upgrades(url, 3)).toEqual([101, 101, 429]);
      // Other IPs are not affected.
      expect(await upgrades(url, 2, { localAddress: '127.0.0.2' })).toEqual([101, 101]);

      await closeAll([opened[0]]);
      const registry = app().app.get(ConnectionRegistry);
      await waitForValue(() => registry.size, 3, 'open connections');
      expect(await upgrades(url, 2)).toEqual([101, 429]);
    });

    it('frees the slot of a refused or closed socket (no leak across many attempts)', async () => {
      const url = `${app().wsUrl}/ws`;
      const registry = app().app.get(ConnectionRegistry);
      for (let round = 0; round < 20; round++) {
        const attempts = await attemptUpgrades(url, 3);
        expect(statuses(attempts)).toEqual([101, 101, 429]);
        await closeAll(attempts);
        await waitForValue(() => registry.size, 0, 'open connections');
      }
      expect(app().app.get(UpgradeLimits).openSockets?.size).toBe(0);
    });
  });
});
