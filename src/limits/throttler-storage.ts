import { Logger } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Cluster, type RedisOptions } from 'ioredis';
import { clusterOptions } from '../bus/redis-cluster-link';
import { reconnectDelay, SOCKET_TIMEOUT_MS } from '../bus/redis-connection';
import type { AppConfig } from '../config/app-config';

/**
 * The ThrottlerStorage every limit of this process counts in: @nestjs/throttler's in-memory
 * storage for one instance, or, when REDIS_URL or REDIS_CLUSTER_NODES is set,
 * @nest-lab/throttler-storage-redis
 * (one atomic Lua script per increment; it supports ioredis >= 5 and Nest 11), so instances
 * sharing that Redis share every budget. Nest's shutdown hooks release either one: the Redis
 * storage disconnects the client it created, the in-memory one stops its sweep timer.
 * The Redis connection is opened only when a limit that must hold across instances is on
 * (`countsInStorage`): CONNECT_RATE_LIMIT, or API_RATE_LIMIT of the HTTP API's keys. HTTP route limits (HttpThrottlerGuard) count in whichever
 * storage this returns: shared through Redis then, per instance otherwise. WebSocket message
 * limits never count here (see MessageThrottles).
 */
export function createThrottlerStorage(config: AppConfig, instance: string): ThrottlerStorage {
  const { target } = config.redis;
  if (target === undefined || !countsInStorage(config)) return new ThrottlerStorageService();
  const storage =
    target.kind === 'single'
      ? new ThrottlerStorageRedisService(target.url, limitsRedisOptions(instance))
      : clusterStorage(
          new Cluster(
            target.nodes.map((node) => ({ ...node })),
            {
              ...clusterOptions(target, `${instance}-limits`),
              // Limits only run a script: no subscriber connections.
              shardedSubscribers: false,
            },
          ),
        );
  const log = new Logger('ThrottlerStorage');
  let lastCode: string | undefined;
  // Without a listener ioredis prints every error; one line per distinct error is enough, since
  // each failed check is reported (throttled) where it fails open.
  storage.redis.on('error', (error: Error & { code?: string }) => {
    const code = error.code ?? error.name;
    if (code === lastCode) return;
    lastCode = code;
    log.warn(`Redis for rate limits: ${code}`);
  });
  storage.redis.on('ready', () => (lastCode = undefined));
  return storage;
}

/**
 * The storage on a Redis Cluster. Its script's two keys, `{<key>:<throttler>}:hits` and
 * `…:blocked`, share a hash tag, so it runs in one slot (our keys hold no braces: REDIS_PREFIX
 * may not, IPs and key names cannot). Given a client, the storage does not close it at shutdown
 * unless told to.
 */
function clusterStorage(cluster: Cluster): ThrottlerStorageRedisService {
  const storage = new ThrottlerStorageRedisService(cluster);
  storage.disconnectRequired = true;
  return storage;
}

function countsInStorage(config: AppConfig): boolean {
  return config.connectRate.limit > 0 || config.api.keys.length > 0;
}

/**
 * Like the bus connections: a command issued while Redis is down fails at once instead of
 * queueing (the caller fails open), nothing is resent, and reconnection never stops.
 */
function limitsRedisOptions(instance: string): RedisOptions {
  return {
    connectionName: `switchboard-${instance}-limits`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => reconnectDelay(attempt),
    connectTimeout: 2000,
    disconnectTimeout: 200,
    socketTimeout: SOCKET_TIMEOUT_MS,
  };
}
