import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { load } from 'js-yaml';
import { EnvironmentVariables } from '../../src/config/environment';
import { loadConfig } from '../../src/config/load-config';
import { startApp } from '../support/app';
import { describeWithRedisServer, freePort, waitForPing } from '../support/redis';
import { parseClusterNodes, type ClusterNodeInfo } from '../support/redis-cluster';

/**
 * docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine: what
 * can be read statically is read, the compose environment goes through the app's own config
 * validation, and the `cluster` profile's init command runs against local redis-server nodes
 * configured as the compose file configures them. (js-yaml comes with eslint and @nestjs/cli.)
 */
const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  init?: boolean;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
}

const compose = load(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const apps = ['app1', 'app2'] as const;

/** The `cluster` profile: six Redis Cluster nodes, the one-shot service joining them, two apps. */
const clusterNodes = [1, 2, 3, 4, 5, 6].map((n) => `redis-cluster-${n}`);
const CLUSTER_INIT = 'redis-cluster-init';
const clusterApps = ['app-cluster-1', 'app-cluster-2'] as const;

/**
 * Compose's interpolation: `$$` is a literal `$`, `${NAME:-default}` and `${NAME:?error}` take
 * NAME from `shell`. Any other `$` would be interpolated too (a shell variable Compose would
 * replace by a host variable, usually empty): this throws on it.
 */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Z_]+):([-?])([^}]*)\}|\$/g,
    (match, name: string, kind: string, text: string) => {
      if (match === '$$') return '$';
      if (match === '$') throw new Error(`a $ that Compose would interpolate, in: ${value}`);
      if (shell[name] !== undefined) return shell[name];
      if (kind === '-') return text;
      throw new Error(`compose refuses to start: ${name}: ${text}`);
    },
  );
}

/** What an operator would export: a secret production accepts. */
const OPERATOR_SHELL = { JWT_SECRET: 'an-operator-secret-of-at-least-32-bytes' };

/** The environment of service `name` as its container gets it, under OPERATOR_SHELL. */
function resolvedEnvironment(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(compose.services[name].environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value), OPERATOR_SHELL),
    ]),
  );
}

/** The file of this repository that service `name` mounts at `target` (`./file:target:ro`). */
function mountedFile(name: string, target: string): string {
  const mount = (compose.services[name].volumes ?? [])
    .map((volume) => volume.split(':'))
    .find(([source, at, mode]) => source.startsWith('./') && at === target && mode === 'ro');
  if (mount === undefined) {
    throw new Error(`${name} mounts no file of this repository at ${target}`);
  }
  return join(root, mount[0]);
}

/**
 * A cluster node's options as its redis-server reads them: the config file its command names,
 * mounted from this repository, then the command-line options, which take precedence.
 */
function nodeOptions(name: string): Map<string, string> {
  const [binary, configFile, ...args] = compose.services[name].command ?? [];
  if (binary !== 'redis-server' || configFile === undefined) {
    throw new Error(`${name} does not run redis-server with a config file`);
  }
  const options = new Map<string, string>();
  for (const line of readFileSync(mountedFile(name, configFile), 'utf8').split('\n')) {
    const [key, ...value] = line.trim().split(/\s+/);
    if (key !== '' && !key.startsWith('#')) options.set(key, value.join(' '));
  }
  for (let i = 0; i < args.length; i += 2) options.set(args[i].replace(/^--/, ''), args[i + 1]);
  return options;
}

function without(environment: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([key]) => key !== name));
}

/** `host:port` of each cluster node on the compose network: its service name and its port. */
const clusterSeeds = () =>
  clusterNodes.map((name) => `${name}:${nodeOptions(name).get('port') ?? '6379'}`);

describe('docker-compose.yml', () => {
  it('runs Redis and two app instances without a profile, so plain `docker compose up` does', () => {
    const always = Object.keys(compose.services).filter(
      (name) => compose.services[name].profiles === undefined,
    );
    expect(always.sort()).toEqual(['app1', 'app2', 'redis']);
    const redis = compose.services.redis;
    expect(redis.image).toMatch(/^redis:\d/);
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs Redis with append-only persistence and no eviction, so channel history survives', () => {
    const command = compose.services.redis.command ?? [];
    const option = (name: string) => command[command.indexOf(name) + 1];
    expect(option('--appendonly')).toBe('yes');
    expect(option('--maxmemory-policy')).toBe('noeviction');
  });

  it.each(apps)('%s is built here, waits for a healthy Redis and shares it', (name) => {
    const app = compose.services[name];
    expect(app.build).toBe('.');
    expect(app.init).toBe(true);
    expect(app.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(app.environment?.REDIS_URL).toBe('redis://redis:6379');
  });

  it.each([
    ['app1', '3001'],
    ['app2', '3002'],
    ['app-cluster-1', '3003'],
    ['app-cluster-2', '3004'],
  ])('publishes %s on host port %s, to its PORT', (name, hostPort) => {
    const app = compose.services[name];
    expect(app.ports).toEqual([`${hostPort}:${app.environment?.PORT}`]);
  });

  it('publishes no host port twice, so the profiles run side by side', () => {
    const hostPorts = Object.values(compose.services)
      .flatMap((service) => service.ports ?? [])
      .map((mapping) => mapping.split(':')[0]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('runs app1 and app2 with one environment', () => {
    expect(compose.services.app1.environment).toEqual(compose.services.app2.environment);
  });

  it.each([...apps, ...clusterApps])(
    '%s requires JWT_SECRET from the environment, with no default',
    (name) => {
      const secret = String(compose.services[name].environment?.JWT_SECRET);
      expect(secret).toMatch(/^\$\{JWT_SECRET:\?.*\bJWT_SECRET\b.*\}$/);
      expect(() => interpolate(secret, {})).toThrow(/JWT_SECRET/);
    },
  );

  it('sets only variables the app reads, with values its config validation accepts', () => {
    const known = Object.keys(new EnvironmentVariables());
    for (const name of apps) {
      const environment = compose.services[name].environment ?? {};
      expect(Object.keys(environment).filter((key) => !known.includes(key))).toEqual([]);
      const config = loadConfig(resolvedEnvironment(name));
      expect(config.nodeEnv).toBe('production');
      expect(config.redis).toEqual({
        target: { kind: 'single', url: 'redis://redis:6379' },
        prefix: 'switchboard:',
      });
    }
  });

  it('has each service depend only on services Compose enables with it', () => {
    // Compose refuses a dependency on a service whose profiles are all inactive.
    const enabledWith = (dependent: ComposeService, dependency: ComposeService | undefined) =>
      dependency !== undefined &&
      (dependency.profiles === undefined ||
        dependency.profiles.some((profile) => dependent.profiles?.includes(profile)));
    const unreachable = Object.entries(compose.services).flatMap(([name, service]) =>
      Object.keys(service.depends_on ?? {})
        .filter((dependency) => !enabledWith(service, compose.services[dependency]))
        .map((dependency) => `${name} -> ${dependency}`),
    );
    expect(unreachable).toEqual([]);
  });
});

describe('docker-compose.yml, profile cluster', () => {
  it('adds six cluster nodes, the service joining them and two instances, in profile cluster only', () => {
    const profiled = Object.keys(compose.services).filter(
      (name) => compose.services[name].profiles !== undefined,
    );
    expect(profiled.sort()).toEqual([...clusterNodes, CLUSTER_INIT, ...clusterApps].sort());
    for (const name of profiled) expect(compose.services[name].profiles).toEqual(['cluster']);
  });

  it.each(clusterNodes)(
    '%s is a cluster node on the image of `redis`, reached by its service name',
    (name) => {
      const node = compose.services[name];
      expect(node.image).toBe(compose.services.redis.image);
      expect(node.healthcheck).toEqual(compose.services.redis.healthcheck);
      expect(node.ports).toBeUndefined(); // the instances reach it on the compose network
      const options = nodeOptions(name);
      expect(options.get('cluster-enabled')).toBe('yes');
      // CLUSTER SLOTS and MOVED, which ioredis follows, name it by the hostname it announces.
      expect(options.get('cluster-preferred-endpoint-type')).toBe('hostname');
      expect(options.get('cluster-announce-hostname')).toBe(name);
    },
  );

  it.each(clusterNodes)('%s keeps channel history as `redis` does and fails over fast', (name) => {
    const options = nodeOptions(name);
    expect(options.get('appendonly')).toBe('yes');
    expect(options.get('maxmemory-policy')).toBe('noeviction');
    // A replica takes over after the node timeout and an election of about a second: delivery
    // resumes within 10 s of a primary's death only if the timeout is well under that.
    expect(Number(options.get('cluster-node-timeout'))).toBeLessThanOrEqual(5000);
  });

  it('joins all six nodes, once healthy, into three primaries with one replica each', () => {
    const init = compose.services[CLUSTER_INIT];
    expect(init.image).toBe(compose.services.redis.image);
    expect(init.depends_on).toEqual(
      Object.fromEntries(clusterNodes.map((name) => [name, { condition: 'service_healthy' }])),
    );
    expect(init.environment?.REDIS_CLUSTER_NODES.split(',')).toEqual(clusterSeeds());
    const [shell, flags, script] = (init.command ?? []).map((arg) => interpolate(arg, {}));
    expect([shell, flags]).toEqual(['sh', '-euc']);
    expect(script).toMatch(/^nodes=\$\(echo "\$REDIS_CLUSTER_NODES" \| tr , ' '\)$/m);
    const create =
      /^\s*redis-cli --cluster create \$nodes --cluster-replicas (\d+) --cluster-yes$/m;
    const replicas = Number(create.exec(script)?.[1]);
    expect(replicas).toBe(1);
    expect(clusterSeeds().length / (1 + replicas)).toBe(3);
  });

  it.each(clusterApps)('%s is built as app1 is and waits for the cluster to be joined', (name) => {
    const app = compose.services[name];
    expect(app.build).toBe(compose.services.app1.build);
    expect(app.init).toBe(true);
    expect(app.depends_on).toEqual({
      [CLUSTER_INIT]: { condition: 'service_completed_successfully' },
    });
  });

  it.each(clusterApps)('%s has every node as a seed, and no REDIS_URL', (name) => {
    const environment = compose.services[name].environment ?? {};
    expect(environment.REDIS_CLUSTER_NODES.split(',')).toEqual(clusterSeeds());
    expect(environment.REDIS_URL).toBeUndefined();
    // Braces in the prefix would change the hash tag that keeps a channel's keys in one slot.
    expect(environment.REDIS_PREFIX).not.toMatch(/[{}]/);
    // Otherwise as app1: the same secret, prefix and settings.
    expect(without(environment, 'REDIS_CLUSTER_NODES')).toEqual(
      without(compose.services.app1.environment ?? {}, 'REDIS_URL'),
    );
  });

  it('sets only variables the app reads on the cluster instances, with values it accepts', () => {
    const known = Object.keys(new EnvironmentVariables());
    for (const name of clusterApps) {
      const environment = resolvedEnvironment(name);
      expect(Object.keys(environment).filter((key) => !known.includes(key))).toEqual([]);
      expect(loadConfig(environment).nodeEnv).toBe('production');
      // REDIS_CLUSTER_NODES is read, not ignored: beside REDIS_URL the app refuses to start.
      expect(() => loadConfig({ ...environment, REDIS_URL: 'redis://redis:6379' })).toThrow(
        /REDIS_URL[^]*REDIS_CLUSTER_NODES|REDIS_CLUSTER_NODES[^]*REDIS_URL/,
      );
    }
  });
});

/** How a process ended, and what it printed. */
interface Run {
  code: number | null;
  output: string;
}

/** Runs `command` with `env` added to this process's; kills it and fails after `timeoutMs`. */
function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 5000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not exit within ${timeoutMs} ms; it printed:\n${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A cluster node of the compose file, run here: 127.0.0.1 for service names, its own port. */
interface LocalNode {
  readonly port: number;
  readonly child: ChildProcess;
  readonly dir: string;
}

const localNodes = new Set<ChildProcess>();
// A crashed or interrupted run must not leave nodes behind.
process.once('exit', () => {
  for (const child of localNodes) child.kill('SIGKILL');
});

async function startLocalNode(name: string): Promise<LocalNode> {
  const [, configFile, ...args] = compose.services[name].command ?? [];
  const port = await freePort();
  // The cluster bus defaults to port + 10000, which may be taken or past 65535: a free one too.
  let busPort = await freePort();
  while (busPort === port) busPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const localArgs = args.map((arg) => (clusterNodes.includes(arg) ? '127.0.0.1' : arg));
  // What Docker gives a node, here: its own port and directory, 127.0.0.1 for service names.
  const local = [
    '--port',
    String(port),
    '--cluster-port',
    String(busPort),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--loglevel',
    'warning',
  ];
  const child = spawn('redis-server', [mountedFile(name, configFile), ...localArgs, ...local], {
    stdio: 'ignore',
  });
  localNodes.add(child);
  child.once('exit', () => localNodes.delete(child));
  const node = { port, child, dir };
  try {
    await waitForPing(`redis://127.0.0.1:${port}`);
  } catch (error) {
    await stopLocalNode(node);
    throw error;
  }
  return node;
}

/** SIGKILLs the node by pid, waits for it to exit (5 s at most) and removes its directory. */
async function stopLocalNode({ child, dir }: LocalNode): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await Promise.race([
      exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`redis-server ${child.pid} did not exit`)), 5000).unref(),
      ),
    ]);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The init command of the compose file, as its container runs it, on the nodes `seeds`. */
function runInit(seeds: string): Promise<Run> {
  const [shell, ...args] = (compose.services[CLUSTER_INIT].command ?? []).map((arg) =>
    interpolate(arg, {}),
  );
  return run(shell, args, { REDIS_CLUSTER_NODES: seeds }, 12_000);
}

/** The cluster as the node behind `client` sees it, sorted by node id. */
async function topology(client: Redis): Promise<ClusterNodeInfo[]> {
  const nodes = parseClusterNodes((await client.call('CLUSTER', 'NODES')) as string);
  return nodes.sort((a, b) => a.id.localeCompare(b.id));
}

/** What `nodes` show: primaries holding slots, and the replicas of each. */
function shape(nodes: readonly ClusterNodeInfo[]): string {
  const primaries = nodes.filter((node) => node.primary && node.slots.length > 0);
  const replicas = primaries.map(
    ({ id }) => nodes.filter((node) => !node.primary && node.primaryId === id).length,
  );
  return `${primaries.length} primaries holding slots, replicas of each: ${replicas.join(' ')}`;
}

/** Polls the shape of the cluster `client` sees until it is `expected`, 5 s at most. */
async function waitForShape(client: Redis, expected: string): Promise<string> {
  const deadline = Date.now() + 5000;
  let seen = shape(await topology(client));
  while (seen !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen = shape(await topology(client));
  }
  return seen;
}

/**
 * Polls CLUSTER INFO on every node until each says cluster_state:ok, 5 s at most: a node that
 * has not caught up would fail ioredis's ready check, and ioredis would reconnect meanwhile.
 */
async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const clients = ports.map((port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.call('CLUSTER', 'INFO')));
      if (infos.every((info) => String(info).includes('cluster_state:ok'))) return;
      if (Date.now() >= deadline) throw new Error('Not every node is cluster_state:ok after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

describeWithRedisServer('docker-compose.yml, profile cluster: the init on six local nodes', () => {
  const nodes: LocalNode[] = [];
  let first: Redis;
  let seeds: string;
  let firstRun: Run;

  beforeAll(async () => {
    nodes.push(...(await Promise.all(clusterNodes.map(startLocalNode))));
    seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
    first = new Redis(nodes[0].port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    firstRun = await runInit(seeds);
  });

  afterAll(async () => {
    first?.disconnect();
    await Promise.all(nodes.map(stopLocalNode));
  });

  it('creates three primaries with one replica each, which ioredis uses from the seeds', async () => {
    expect(firstRun).toMatchObject({ code: 0 });
    expect(firstRun.output).toContain('All 16384 slots covered');
    // Replicas are told their primary last; every node learns it by gossip, within a second.
    const expected = '3 primaries holding slots, replicas of each: 1 1 1';
    expect(await waitForShape(first, expected)).toBe(expected);
    await waitForClusterOk(nodes.map((node) => node.port));

    const cluster = new Cluster(seeds.split(','), { lazyConnect: true });
    try {
      await cluster.connect();
      const keys = Array.from({ length: 30 }, (_, i) => `compose-init:${i}`);
      for (const key of keys) await cluster.set(key, key);
      expect(await Promise.all(keys.map((key) => cluster.get(key)))).toEqual(keys);
      const perPrimary = await Promise.all(cluster.nodes('master').map((node) => node.dbsize()));
      expect(perPrimary).toHaveLength(3);
      expect(perPrimary.every((count) => count > 0)).toBe(true);
    } finally {
      cluster.disconnect();
    }
  });

  it('leaves the cluster as it is when run again, as on an `up` after a `stop`', async () => {
    const before = await topology(first);
    const again = await runInit(seeds);
    expect(again).toMatchObject({ code: 0 });
    expect(again.output).toContain('the cluster exists');
    expect(await topology(first)).toEqual(before);
  });

  it('fails at once, holding the instances back, when the first node does not answer', async () => {
    const others = seeds.split(',').slice(1);
    const failed = await runInit([`127.0.0.1:${await freePort()}`, ...others].join(','));
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/Could not connect/);
  });
});

describe('Dockerfile', () => {
  /** Instructions with continuation lines joined and comments dropped, split into stages. */
  const stages: { name?: string; instructions: string[] }[] = [];
  for (const instruction of read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(instruction);
    if (from) stages.push({ name: from[1], instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  const [build, runtime] = stages;
  const has = (stage: { instructions: string[] }, pattern: RegExp) =>
    stage.instructions.some((instruction) => pattern.test(instruction));

  it('has a build stage and a runtime stage', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
  });

  it('builds and runs on Node 24 LTS: the major CI tests on and package.json engines admits', () => {
    const major = /^ARG NODE_VERSION=(\d+)$/m.exec(read('Dockerfile'))?.[1];
    expect(major).toBe('24');
    for (const stage of stages)
      expect(stage.instructions[0]).toMatch(/^FROM node:\$\{NODE_VERSION\}-/);
    expect(/^NODE24_VERSION=(\d+)\./m.exec(read('.ci/node24'))?.[1]).toBe(major);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    expect(engines.node.split('||').map((range) => range.trim())).toContain(`^${major}.0.0`);
  });

  it('builds with every dependency: npm ci, then npm run build', () => {
    expect(has(build, /^RUN npm ci(?!.*--omit)/)).toBe(true);
    expect(has(build, /^RUN npm run build\b/)).toBe(true);
  });

  it('runs with production dependencies only and the compiled output', () => {
    expect(has(runtime, /^RUN npm ci --omit=dev\b/)).toBe(true);
    expect(has(runtime, /^COPY --from=build \/app\/dist \.\/dist$/)).toBe(true);
    expect(has(runtime, /^COPY (?!--from).*\bsrc\b/)).toBe(false);
  });

  it('runs as a non-root user, from USER on', () => {
    const users = runtime.instructions.filter((instruction) => /^USER\s/.test(instruction));
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    const userAt = runtime.instructions.indexOf(users[0]);
    expect(runtime.instructions.slice(userAt + 1).some((i) => /^(RUN|COPY|ADD)\s/.test(i))).toBe(
      false,
    );
  });

  const healthcheck = () => {
    const [instruction] = runtime.instructions.filter((i) => i.startsWith('HEALTHCHECK'));
    return JSON.parse(instruction.replace(/^HEALTHCHECK\s.*?\bCMD\s+/, '')) as string[];
  };

  it('checks its health on /health with node, not curl', () => {
    const command = healthcheck();
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toMatch(/\/health/);
    expect(command.join(' ')).not.toMatch(/curl|wget/);
  });

  it('has a health check that passes against a running app and fails without one', async () => {
    const [, flag, script] = healthcheck();
    const running = await startApp();
    try {
      const port = String((running.server.address() as AddressInfo).port);
      expect((await run(process.execPath, [flag, script], { PORT: port })).code).toBe(0);
    } finally {
      await running.close();
    }
    expect(
      (await run(process.execPath, [flag, script], { PORT: String(await freePort()) })).code,
    ).toBe(1);
  });

  it('starts with node dist/main.js, as npm run start:prod does', () => {
    expect(runtime.instructions.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['start:prod']).toBe('node dist/main.js');
  });

  it('copies only files that exist, none of them ignored by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const copied = build.instructions
      .concat(runtime.instructions)
      .filter((i) => /^COPY\s/.test(i) && !i.includes('--from'))
      .flatMap((i) => i.split(/\s+/).slice(1, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const file of copied) {
      expect(existsSync(join(root, file))).toBe(true);
      expect(ignored).not.toContain(file);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env']));
  });
});
