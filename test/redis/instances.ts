import { get } from 'node:http';
import { Bus } from '../../src/bus/bus';
import type { Environment } from '../../src/config/load-config';
import { InstanceId } from '../../src/common/instance-id';
import { startApp, type RunningApp } from '../support/app';

/**
 * Helpers shared by the Redis suites: instances of the real app on one Redis (or one Redis
 * Cluster) and their readiness. What Redis sees of them: test/support/redis.ts.
 */

/**
 * The environment of an instance under `prefix`, with rate limiting out of the way, on the Redis
 * at `where`: a REDIS_URL, or the address of a RedisDeployment (REDIS_URL or REDIS_CLUSTER_NODES).
 */
export function redisEnv(where: string | Environment, prefix: string): Environment {
  const address = typeof where === 'string' ? { REDIS_URL: where } : where;
  return { ...address, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '1000000' };
}

/** Boots `count` instances with the same environment, as a deployment would. */
export function startInstances(count: number, env: Environment): Promise<RunningApp[]> {
  return Promise.all(Array.from({ length: count }, () => startApp(env)));
}

export function busOf(running: RunningApp): Bus {
  return running.app.get(Bus);
}

export function instanceIdOf(running: RunningApp): string {
  return running.app.get(InstanceId).value;
}

/**
 * Fails unless every app has an InstanceId of its own. Apps in one process sharing one would
 * take each other's envelopes for their own echo and drop them: CommonModule must build it
 * per application (`useFactory: () => new InstanceId()`), not once at import.
 */
export function expectDistinctInstances(...apps: RunningApp[]): void {
  const ids = apps.map(instanceIdOf);
  if (new Set(ids).size !== ids.length) {
    throw new Error(
      `These apps share an InstanceId (${ids.join(', ')}): CommonModule must provide ` +
        'InstanceId with useFactory: () => new InstanceId(), so each application gets its own',
    );
  }
}

/** GET `path` on a fresh connection (no keep-alive to hold app.close() up); resolves the status. */
export function httpStatus(running: RunningApp, path: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(
      `${running.httpUrl}${path}`,
      { agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`GET ${path} took over ${timeoutMs} ms`)),
    );
    request.on('error', reject);
  });
}

/**
 * Polls GET /ready every 10 ms until it answers `status`. Resolves with the milliseconds that
 * took; rejects after `timeoutMs` with the last status seen.
 */
export async function waitForReadiness(
  running: RunningApp,
  status: number,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  let seen = await httpStatus(running, '/ready');
  while (seen !== status) {
    if (Date.now() - started >= timeoutMs) {
      throw new Error(`GET /ready answered ${seen}, not ${status}, for ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen = await httpStatus(running, '/ready');
  }
  return Date.now() - started;
}

/** Every change of what GET /ready answered, with when it was first seen (0: no answer). */
export interface ReadinessLog {
  readonly changes: readonly { readonly at: number; readonly status: number }[];
  /** Stops polling; resolves once the last poll is over. */
  stop(): Promise<void>;
}

/**
 * Polls GET /ready every 20 ms in the background and logs each change of the answer, for a test
 * that must see a brief 503 while other things happen (a failover).
 */
export function watchReadiness(running: RunningApp): ReadinessLog {
  const changes: { at: number; status: number }[] = [];
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const status = await httpStatus(running, '/ready').catch(() => 0);
      if (changes.at(-1)?.status !== status) changes.push({ at: Date.now(), status });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    changes,
    stop: async () => {
      stopped = true;
      await polling;
    },
  };
}
