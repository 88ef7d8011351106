/**
 * A Redis Cluster of the bench's own: six `redis-server --cluster-enabled yes` on free ports
 * (pinned like the bench's other Redis), joined by `redis-cli --cluster create
 * --cluster-replicas 1` into three primaries with one replica each, as the tests' harness
 * (test/support/redis-cluster.ts) does. Every node is tracked and stopped by its pid.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, startRedis, stop, track, type Server } from './processes';

const NODES = 6;
const CREATE_TIMEOUT_MS = 30_000;
const HEALTHY_TIMEOUT_MS = 30_000;

export interface BenchCluster {
  readonly nodes: readonly Server[];
  /** The three nodes that serve slots (checked once the cluster is healthy). */
  readonly primaries: readonly Server[];
  /** REDIS_CLUSTER_NODES: every node as host:port. */
  readonly seeds: string;
  /** Stops every node by pid and removes the nodes' directory. */
  stop(): Promise<void>;
}

export async function startRedisCluster(
  cpu: number | undefined,
  cwd: string,
): Promise<BenchCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-bench-cluster-'));
  const nodes: Server[] = [];
  const stopAll = async () => {
    await stop(...nodes);
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    // freePort answers a port free now: six in a row must differ.
    while (ports.length < NODES) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    for (const port of ports) {
      const extraArgs = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        // A replica syncs at once after the create, instead of waiting 5 s for more replicas.
        '--repl-diskless-sync-delay',
        '0',
        '--dir',
        directory,
      ];
      nodes.push(track(await startRedis(cpu, cwd, { port, extraArgs })));
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`)].concat(
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ),
      { encoding: 'utf8', timeout: CREATE_TIMEOUT_MS },
    );
    if (create.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    }
    const primaries = await waitUntilHealthy(nodes);
    return {
      nodes,
      primaries,
      seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Polls (every 100 ms) until every node says cluster_state:ok, three of them are primaries and
 * every replica's link to its primary is up; answers the primaries.
 */
async function waitUntilHealthy(nodes: readonly Server[]): Promise<Server[]> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  let problem = '';
  for (;;) {
    const primaries: Server[] = [];
    problem = '';
    for (const node of nodes) {
      const info = await command(node.port, 'INFO', 'cluster');
      const cluster = await command(node.port, 'CLUSTER', 'INFO');
      const replication = await command(node.port, 'INFO', 'replication');
      if (!info.includes('cluster_enabled:1')) problem = `port ${node.port} is not in cluster mode`;
      else if (!cluster.includes('cluster_state:ok')) problem = `port ${node.port} is not ok yet`;
      else if (replication.includes('role:master')) primaries.push(node);
      else if (!replication.includes('master_link_status:up')) {
        problem = `replica on port ${node.port} has no link to its primary yet`;
      }
    }
    if (!problem && primaries.length !== NODES / 2) {
      problem = `${primaries.length} primaries instead of ${NODES / 2}`;
    }
    if (!problem) return primaries;
    if (Date.now() > deadline) {
      throw new Error(
        `the Redis Cluster is not healthy after ${HEALTHY_TIMEOUT_MS} ms: ${problem}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One command on one node, on a short-lived connection; the answer as text. */
async function command(port: number, name: string, ...args: string[]): Promise<string> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return String(await client.call(name, ...args));
  } finally {
    client.disconnect();
  }
}
