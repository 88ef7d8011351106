import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis';

const run = promisify(execFile);

/**
 * A minimal Redis Cluster for the cluster suites of issue 15 (three primaries, one replica
 * each), until test/support/redis-cluster.ts replaces it: six `redis-server --cluster-enabled`
 * on free ports, joined by `redis-cli --cluster create`. Node timeout 2000 ms, so that a killed
 * primary's replica takes over within about 3 s.
 */
export class LocalCluster {
  private constructor(readonly servers: readonly RedisServer[]) {}

  static async start(timeoutMs = 20_000): Promise<LocalCluster> {
    const run_ = randomUUID();
    const servers = await Promise.all(
      Array.from({ length: 6 }, () => RedisServer.start(undefined, clusterArgs(run_))),
    );
    const cluster = new LocalCluster(servers);
    try {
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...servers.map((server) => `127.0.0.1:${server.port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { timeout: timeoutMs },
      );
      await cluster.waitUntilHealthy(timeoutMs);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for it: two seeds are enough for ioredis to find the rest. */
  get seeds(): string {
    return this.servers
      .slice(0, 2)
      .map((server) => `127.0.0.1:${server.port}`)
      .join(',');
  }

  /** Resolves once every node reports cluster_state:ok and every replica's link is up. */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(this.servers.map((server) => nodeState(server)));
      if (states.every((state) => state.ok)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The cluster is not healthy after ${timeoutMs} ms: ${JSON.stringify(states)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.kill()));
  }
}

function clusterArgs(run: string): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${run}-${Math.random().toString(36).slice(2)}.conf`,
    '--cluster-node-timeout',
    '2000',
    '--cluster-replica-validity-factor',
    '0',
    '--repl-diskless-sync-delay',
    '0',
  ];
}

/** One node's view: cluster_state:ok, and, on a replica, master_link_status:up. */
async function nodeState(server: RedisServer): Promise<{ port: number; ok: boolean }> {
  if (server.pid === undefined) return { port: server.port, ok: true };
  const client = new Redis(server.port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // a refused connection is reported as not ok
  try {
    await client.connect();
    const cluster = await client.cluster('INFO');
    const replication = await client.info('replication');
    const replicaUp =
      !replication.includes('role:slave') || replication.includes('master_link_status:up');
    return { port: server.port, ok: cluster.includes('cluster_state:ok') && replicaUp };
  } catch {
    return { port: server.port, ok: false };
  } finally {
    client.disconnect();
  }
}
