/**
 * Presence under a join storm: MEMBERS /ws/json clients join one channel within JOIN_WINDOW_MS,
 * on one Switchboard instance with Redis (a private redis-server, so its command statistics are
 * this run's alone). Reports the presence_diff frames a `presence: true` watcher received and
 * the Redis commands per join (INFO commandstats before and after).
 *
 *   npm run bench:presence
 */
import { join } from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { startNodeServer, startRedis, stopProcess } from './processes';

const MEMBERS = 5000;
const JOIN_WINDOW_MS = 2000;
const DIFF_MS = 200;
const CHANNEL = 'bench-presence';
const ROOT = join(__dirname, '..');

type Diff = { joins: unknown[]; leaves: unknown[] };

async function main(): Promise<void> {
  const redis = await startRedis(undefined, ROOT);
  const server = await startNodeServer({
    name: 'switchboard',
    node: process.execPath,
    nodeFlags: ['-r', 'ts-node/register/transpile-only'],
    script: join(ROOT, 'src', 'main.ts'),
    env: (port) => ({
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      RATE_LIMIT_MAX: '1000000000',
      PRESENCE_DIFF_MS: String(DIFF_MS),
      // Off, so that the subscribes' history reads do not count: presence alone is measured.
      HISTORY_SIZE: '0',
      LOG_LEVEL: 'warn',
    }),
    healthPath: '/ready',
    cpu: undefined,
    cwd: ROOT,
  });
  const stats = new Redis(redis.port, '127.0.0.1');
  const sockets: WebSocket[] = [];
  try {
    const url = `ws://127.0.0.1:${server.port}/ws/json`;
    const diffs: Diff[] = [];
    const watcher = await open(url);
    sockets.push(watcher);
    watcher.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; data: Diff };
      if (frame.type === 'presence_diff') diffs.push(frame.data);
    });
    await subscribe(watcher, true);
    await until(() => joined(diffs) === 1, 5000);
    diffs.length = 0;

    // Connected first: the storm is the joins (subscribes), 20 slices spread over the window.
    const members: WebSocket[] = [];
    for (let opened = 0; opened < MEMBERS; opened += 500) {
      members.push(...(await Promise.all(Array.from({ length: 500 }, () => open(url)))));
    }
    sockets.push(...members);
    await stats.config('RESETSTAT');
    const started = Date.now();
    const perSlice = MEMBERS / 20;
    for (let slice = 0; slice < 20; slice++) {
      const joining = members.slice(slice * perSlice, (slice + 1) * perSlice);
      await Promise.all(joining.map((socket) => subscribe(socket, false)));
      const due = started + ((slice + 1) * JOIN_WINDOW_MS) / 20;
      await sleep(Math.max(0, due - Date.now()));
    }
    const joinMs = Date.now() - started;
    await until(() => joined(diffs) === MEMBERS, 10_000);
    const diffFrames = diffs.length;
    const commands = parseCommandStats(await stats.info('commandstats'));
    const sent = sumOf(commands, (name) => SENT.has(name));
    const inScripts = sumOf(commands, (name) => !SENT.has(name) && name !== 'config|resetstat');

    const lines = [
      `# Presence join storm`,
      ``,
      `${MEMBERS} members joined one channel in ${joinMs} ms (one instance, Redis, PRESENCE_DIFF_MS=${DIFF_MS}, HISTORY_SIZE=0).`,
      ``,
      `| Figure | Value |`,
      `| --- | --- |`,
      `| presence_diff frames to the watcher | ${diffFrames} |`,
      `| joins per frame (mean) | ${(MEMBERS / diffFrames).toFixed(0)} |`,
      `| Redis commands sent per join (EVAL, PUBLISH, PING) | ${(sent / MEMBERS).toFixed(3)} |`,
      `| Redis commands run inside the scripts per join | ${(inScripts / MEMBERS).toFixed(3)} |`,
      ...[...commands].map(([name, calls]) => `| \`${name}\` calls | ${calls} |`),
    ];
    console.log(lines.join('\n'));
  } finally {
    for (const socket of sockets) socket.terminate();
    stats.disconnect();
    await stopProcess(server);
    await stopProcess(redis);
  }
}

/** Commands a client sends; the others in commandstats ran inside EVAL scripts. */
const SENT = new Set(['eval', 'evalsha', 'publish', 'ping', 'subscribe', 'unsubscribe']);

function sumOf(commands: Map<string, number>, which: (name: string) => boolean): number {
  return [...commands].reduce((sum, [name, calls]) => (which(name) ? sum + calls : sum), 0);
}

function joined(diffs: readonly Diff[]): number {
  return diffs.reduce((sum, diff) => sum + diff.joins.length - diff.leaves.length, 0);
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Subscribes and waits for `subscribed`. */
function subscribe(socket: WebSocket, presence: boolean): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      if (!data.toString().includes('"subscribed"')) return;
      socket.off('message', onMessage);
      resolve();
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ type: 'subscribe', payload: { channel: CHANNEL, presence } }));
  });
}

/** `cmdstat_evalsha:calls=12,…` lines as name → calls. */
function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1], Number(match[2]));
  }
  return calls;
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
