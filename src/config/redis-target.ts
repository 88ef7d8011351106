/**
 * Where the Redis of a deployment is: one server (REDIS_URL) or a Redis Cluster reached through
 * seed nodes (REDIS_CLUSTER_NODES). Every consumer branches on `kind` in one place; undefined
 * (neither set) means the in-memory bus of one process.
 */
export type RedisTarget = SingleRedis | RedisCluster;

export interface SingleRedis {
  readonly kind: 'single';
  /** REDIS_URL. May hold a password: never logged. */
  readonly url: string;
}

export interface RedisCluster {
  readonly kind: 'cluster';
  /** The seeds: ioredis learns every other node (and each shard's primary) from them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** From URL seeds (`redis://user:pass@host:port`): shared by every node. Never logged. */
  readonly username?: string;
  readonly password?: string;
  /** True when the seeds are `rediss://` URLs. */
  readonly tls: boolean;
}

/** The target, or the problems (each naming its variable, never quoting a password). */
export type RedisTargetResult =
  | { readonly target: RedisTarget | undefined; readonly problems?: undefined }
  | { readonly target?: undefined; readonly problems: readonly string[] };

/**
 * Reads REDIS_URL, REDIS_CLUSTER_NODES and REDIS_PREFIX together, since only together can they be
 * judged: the two addresses exclude each other, and a prefix with `{` or `}` would move a
 * channel's keys out of its hash tag (`…history:{channel:x}:…`), so that its scripts would span
 * two cluster slots.
 */
export function parseRedisTarget(
  url: string | undefined,
  clusterNodes: string | undefined,
  prefix: string,
): RedisTargetResult {
  const problems: string[] = [];
  if (/[{}]/.test(prefix)) {
    problems.push(
      'REDIS_PREFIX: must not contain "{" or "}" (they would change the hash tag that keeps ' +
        "a channel's keys in one Redis Cluster slot)",
    );
  }
  if (url !== undefined && clusterNodes !== undefined) {
    problems.push(
      'REDIS_URL, REDIS_CLUSTER_NODES: set one or the other (one Redis, or a Redis Cluster), not both',
    );
    return { problems };
  }
  let target: RedisTarget | undefined;
  if (url !== undefined) target = { kind: 'single', url };
  if (clusterNodes !== undefined) {
    const cluster = parseClusterNodes(clusterNodes);
    if (typeof cluster === 'string') problems.push(`REDIS_CLUSTER_NODES: ${cluster}`);
    else target = cluster;
  }
  return problems.length > 0 ? { problems } : { target };
}

interface Seed {
  readonly host: string;
  readonly port: number;
  /** Scheme and credentials of a URL seed, compared across seeds; undefined for host:port. */
  readonly url?: { tls: boolean; username?: string; password?: string };
}

/** The cluster of a comma-separated list of seeds, or why it is invalid (no secret quoted). */
function parseClusterNodes(value: string): RedisCluster | string {
  const entries = value.split(',').map((entry) => entry.trim());
  const seeds: Seed[] = [];
  for (const [index, entry] of entries.entries()) {
    const seed = parseSeed(entry);
    if (seed === undefined) {
      return (
        `seed ${index + 1} is not host:port nor a redis:// or rediss:// URL with a port ` +
        '(e.g. 10.0.0.1:6379,10.0.0.2:6379)'
      );
    }
    seeds.push(seed);
  }
  const urls = seeds.map((seed) => seed.url).filter((url) => url !== undefined);
  const first = urls[0];
  const agree = urls.every(
    (url) =>
      url.tls === first.tls && url.username === first.username && url.password === first.password,
  );
  // A host:port seed beside URL seeds would leave unclear which credentials and TLS it takes.
  if (!agree || (urls.length > 0 && urls.length < seeds.length)) {
    return 'every seed must be host:port, or every seed a URL with the same scheme and credentials';
  }
  return {
    kind: 'cluster',
    nodes: seeds.map(({ host, port }) => ({ host, port })),
    username: first?.username,
    password: first?.password,
    tls: first?.tls ?? false,
  };
}

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i;

function parseSeed(entry: string): Seed | undefined {
  if (/^rediss?:\/\//i.test(entry)) return parseUrlSeed(entry);
  const match = HOST_PORT.exec(entry);
  if (match === null) return undefined;
  const port = Number(match[2]);
  return validPort(port) ? { host: unbracket(match[1]), port } : undefined;
}

function parseUrlSeed(entry: string): Seed | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    // An unparsable URL is reported by the caller as an invalid seed, without its text.
    return undefined;
  }
  const port = Number(url.port);
  if (url.hostname === '' || url.port === '' || !validPort(port)) return undefined;
  if (url.pathname !== '' && url.pathname !== '/') return undefined;
  return {
    host: unbracket(url.hostname),
    port,
    url: {
      tls: url.protocol === 'rediss:',
      username: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
    },
  };
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}
