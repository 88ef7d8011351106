import { get } from 'node:http';
import type Redis from 'ioredis';
import { Bus } from '../../src/bus/bus';
import type { Environment } from '../../src/config/load-config';
import { InstanceId } from '../../src/common/instance-id';
import { startApp, type RunningApp } from '../support/app';

/**
 * Helpers shared by the Redis suites: instances of the real app on one Redis, their readiness,
 * and what Redis sees of them.
 */

/** The environment of an instance on `url` under `prefix`, with rate limiting out of the way. */
export function redisEnv(url: string, prefix: string): Environment {
  return { REDIS_URL: url, REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '1000000' };
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

/**
 * Polls `read` every 10 ms until `done` accepts its value, for state only Redis can report (no
 * event to await). Rejects after `timeoutMs`, showing the last value read.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

/** Channels with at least one subscriber under `prefix`, sorted. */
export async function channelsUnder(inspector: Redis, prefix: string): Promise<string[]> {
  const channels = (await inspector.call('PUBSUB', 'CHANNELS', `${prefix}*`)) as string[];
  return channels.map(String).sort();
}

/** Names of the Redis connections an instance opened (they are named after its id). */
export async function connectionNamesOf(inspector: Redis, instance: string): Promise<string[]> {
  const list = (await inspector.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(`switchboard-${instance}-`))
    .sort();
}
