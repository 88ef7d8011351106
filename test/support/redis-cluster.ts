import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import {
  CLUSTER_TOOLS_MISSING,
  describeWithoutRedis,
  freePort,
  hasRedisCli,
  hasRedisServer,
  RedisServer,
} from './redis';

/**
 * A real Redis Cluster owned by one test file: six `redis-server --cluster-enabled yes` on free
 * ports, joined by `redis-cli --cluster create --cluster-replicas 1` into three primaries with one
 * replica each. Every node is a RedisServer, killed by pid and restartable on its port (its
 * nodes.conf survives in the cluster's own directory, so a restarted node rejoins). Persists no
 * data, like the standalone test servers.
 *
 * The node flags make a failover fast and certain: a primary silent for NODE_TIMEOUT_MS is failed
 * over; `--cluster-replica-validity-factor 0` lets any replica take over however long it was
 * disconnected, and `--repl-diskless-sync-delay 0` lets a replica sync at once after the create.
 */

/** cluster-node-timeout of the test nodes: how long a dead primary goes unnoticed. */
export const NODE_TIMEOUT_MS = 2000;
const PRIMARIES = 3;
const HEALTHY_TIMEOUT_MS = 20_000;
const CREATE_TIMEOUT_MS = 20_000;

/** One line of CLUSTER NODES, as far as the tests need it. */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly primary: boolean;
  /** Marked failed (or suspected) by the node that answered. */
  readonly failing: boolean;
  /** The primary's id, for a replica. */
  readonly primaryId?: string;
  /** Slot ranges served, for a primary: [first, last] pairs. */
  readonly slots: readonly (readonly [number, number])[];
}

export class RedisClusterServer {
  private constructor(
    /** All six nodes, in port order of the create; some may be down during a test. */
    readonly nodes: readonly RedisServer[],
    private readonly directory: string,
  ) {}

  /** Starts six nodes, creates the cluster and waits until it is healthy. */
  static async start(): Promise<RedisClusterServer> {
    const directory = mkdtempSync(join(tmpdir(), 'switchboard-cluster-'));
    // A client port and a cluster bus port per node, all free now (freePort answers one free
    // at the time of the call, so the twelve must differ). The bus port is chosen too: Redis's
    // default, port + 10000, may be taken, or above 65535 for a port above 55535.
    const free: number[] = [];
    while (free.length < PRIMARIES * 4) {
      const port = await freePort();
      if (!free.includes(port)) free.push(port);
    }
    const ports = free.slice(0, PRIMARIES * 2);
    const started = await Promise.allSettled(
      ports.map((port, i) =>
        RedisServer.start(port, nodeArgs(directory, port, free[PRIMARIES * 2 + i])),
      ),
    );
    const nodes = started.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    const cluster = new RedisClusterServer(nodes, directory);
    try {
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      await createCluster(ports);
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for the app: every node as host:port. */
  get seeds(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** Nodes whose process runs (not killed by the test). */
  get live(): RedisServer[] {
    return this.nodes.filter((node) => node.pid !== undefined);
  }

  /** The topology as a live node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    const [first] = this.live;
    if (!first) throw new Error('No node of the cluster is running');
    return parseClusterNodes(String(await command(first, 'CLUSTER', 'NODES')));
  }

  /** The running primary serving the slot of `key` (a hash tag counts, as for Redis). */
  async primaryOf(key: string): Promise<RedisServer> {
    const [first] = this.live;
    if (!first) throw new Error('No node of the cluster is running');
    const slot = Number(await command(first, 'CLUSTER', 'KEYSLOT', key));
    const owner = (await this.topology()).find(
      (node) =>
        node.primary &&
        !node.failing &&
        node.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    return this.nodeAt(owner?.port, `the primary of slot ${slot}`);
  }

  /** The replica of `primary`. */
  async replicaOf(primary: RedisServer): Promise<RedisServer> {
    const topology = await this.topology();
    const primaryId = topology.find((node) => node.port === primary.port)?.id;
    const replica = topology.find((node) => !node.primary && node.primaryId === primaryId);
    return this.nodeAt(replica?.port, `the replica of port ${primary.port}`);
  }

  /**
   * Resolves once every running node reports cluster_state:ok and agrees on which nodes are
   * primaries, and every running replica's link to its primary is up (polled every 50 ms).
   */
  async waitUntilHealthy(timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem = 'not checked yet';
    for (;;) {
      problem = (await this.healthProblem().catch((error: Error) => error.message)) ?? '';
      if (problem === '') return;
      if (Date.now() >= deadline) {
        throw new Error(`The Redis Cluster is not healthy after ${timeoutMs} ms: ${problem}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Kills every node by pid and removes the cluster's directory. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.directory, { recursive: true, force: true });
  }

  private async healthProblem(): Promise<string | undefined> {
    const views = new Set<string>();
    for (const node of this.live) {
      const info = String(await command(node, 'CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok')) return `port ${node.port} is not cluster_state:ok`;
      const topology = parseClusterNodes(String(await command(node, 'CLUSTER', 'NODES')));
      const self = topology.find((entry) => entry.port === node.port);
      // Right after the create, a node may still see a replica-to-be as a primary without slots.
      const idle = topology.find(
        (entry) => entry.primary && !entry.failing && entry.slots.length === 0,
      );
      if (idle) return `port ${node.port} sees port ${idle.port} as a primary without slots`;
      views.add(describeRoles(topology));
      if (self && !self.primary) {
        const replication = String(await command(node, 'INFO', 'replication'));
        if (!replication.includes('master_link_status:up')) {
          return `replica on port ${node.port} has no link to its primary yet`;
        }
      }
    }
    if (views.size !== 1) return `the nodes disagree on the primaries: ${[...views].join(' / ')}`;
    return undefined;
  }

  private nodeAt(port: number | undefined, what: string): RedisServer {
    const node = this.live.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`The cluster has no running node for ${what}`);
    return node;
  }
}

/** Who serves and who replicates whom, as one node sees it: equal strings mean agreement. */
function describeRoles(topology: readonly ClusterNodeInfo[]): string {
  const byId = new Map(topology.map((entry) => [entry.id, entry.port]));
  return topology
    .filter((entry) => !entry.failing)
    .map((entry) =>
      entry.primary
        ? `${entry.port}:${entry.slots.map((range) => range.join('-')).join('+')}`
        : `${entry.port}<${byId.get(entry.primaryId ?? '')}`,
    )
    .sort()
    .join(' ');
}

function nodeArgs(directory: string, port: number, busPort: number): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-port',
    String(busPort),
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
    '--cluster-replica-validity-factor',
    '0',
    '--repl-diskless-sync-delay',
    '0',
    // After RedisServer's own --dir: the last one counts, so each cluster keeps its nodes.conf apart.
    '--dir',
    directory,
  ];
}

/** `redis-cli --cluster create` over the nodes, bounded; rejects with its output on failure. */
function createCluster(ports: readonly number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), CREATE_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create failed (${code}):\n${output}`));
    });
  });
}

/** One command on one node, on a short-lived plain connection. */
async function command(node: RedisServer, name: string, ...args: string[]): Promise<unknown> {
  const client = new Redis(node.port, '127.0.0.1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined); // the command's rejection reports the same error
  try {
    await client.connect();
    return await client.call(name, ...args);
  } finally {
    if (client.status !== 'end') client.disconnect();
  }
}

export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.trim().split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1]);
      const flagSet = new Set(flags.split(','));
      return {
        id,
        port,
        primary: flagSet.has('master'),
        failing: flagSet.has('fail') || flagSet.has('fail?'),
        primaryId: primaryId === '-' ? undefined : primaryId,
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to] = slot.split('-').map(Number);
            return [from, to ?? from] as const;
          }),
      };
    });
}

/**
 * The cluster of the test file under way (jest loads this module once per file): started by the
 * first suite that needs it, shared by its later ones, stopped after the file's last test.
 */
let fileCluster: Promise<RedisClusterServer> | undefined;
let stopRegistered = false;

/**
 * `describe` for suites that need a real Redis Cluster: one per test file, started in the
 * first such suite's beforeAll (a cluster takes seconds to form), shared by the file's other
 * suites, and stopped after the file's last test. Each suite starts on a healthy cluster. Call
 * it at the top level of a file. Without `redis-server` and `redis-cli` on PATH the suite is
 * skipped with a warning, except under CI=true, where it fails.
 */
export function describeWithRedisCluster(
  name: string,
  body: (cluster: () => RedisClusterServer) => void,
): void {
  if (!hasRedisServer() || !hasRedisCli()) {
    describeWithoutRedis(name, CLUSTER_TOOLS_MISSING, () => body(unavailable));
    return;
  }
  if (!stopRegistered) {
    stopRegistered = true;
    // At the top level of the file: runs after its last test, whichever suite that is.
    afterAll(async () => {
      const started = fileCluster;
      fileCluster = undefined;
      await (await started?.catch(() => undefined))?.stop();
    });
  }
  describe(name, () => {
    let current: RedisClusterServer | undefined;
    beforeAll(async () => {
      fileCluster ??= RedisClusterServer.start();
      current = await fileCluster;
      await current.waitUntilHealthy();
    }, CREATE_TIMEOUT_MS + HEALTHY_TIMEOUT_MS);
    describe('on a Redis Cluster of its own (3 primaries, 1 replica each)', () =>
      body(() => {
        if (!current) throw new Error('The cluster is not started yet: use it from beforeAll on');
        return current;
      }));
  });
}

function unavailable(): never {
  throw new Error('No Redis Cluster in this run');
}
