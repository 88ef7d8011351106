/**
 * Starting and stopping the bench's processes: servers (Switchboard, the baseline, Redis) and
 * load clients. Each runs under `bash -c "ulimit -n …; exec taskset -c CPU …"`, so its pid is the
 * process itself (what /proc is read for) and it is only ever stopped by that pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import type { ClientJob, ClientReport, RunnerCommand } from './client-protocol';

/** Raises the fd limit to 65536, or to the hard limit when that is lower. */
const RAISE_FD_LIMIT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Where processes run: server CPU and client CPU, or no pinning when taskset is missing. */
export interface Placement {
  readonly taskset: boolean;
  readonly serverCpu: number;
  readonly clientCpu: number;
}

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  readonly exited: Promise<number | string>;
}

/** Spawns `argv` with a raised fd limit, pinned to `cpu` when taskset exists. */
export function spawnPinned(
  name: string,
  argv: readonly string[],
  options: {
    readonly cpu: number | undefined;
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    readonly ipc?: boolean;
  },
): Spawned {
  const script = `${RAISE_FD_LIMIT}; exec "$@"`;
  const pin = options.cpu === undefined ? [] : ['taskset', '-c', String(options.cpu)];
  const child = spawn('bash', ['-c', script, name, ...pin, ...argv], {
    cwd: options.cwd,
    env: options.env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  if (child.pid === undefined) throw new Error(`cannot start ${name}`);
  return { name, child, pid: child.pid, output: () => output, exited };
}

/** The open-file limit of a process started by spawnPinned. */
export function fdLimit(): number {
  const answer = spawnSync('bash', ['-c', `${RAISE_FD_LIMIT}; ulimit -n`], { encoding: 'utf8' });
  return Number(answer.stdout.trim());
}

/** Stops a process by its pid: SIGTERM, then SIGKILL if it has not exited in time. */
export async function stopProcess(target: Spawned, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  const { child } = target;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await target.exited;
  clearTimeout(timer);
}

/** Processes this run started and has not stopped yet: stopped by pid on the way out. */
const started = new Set<Spawned>();

/** Registers `process` to be killed by killStarted if the run ends before it is stopped. */
export function track<T extends Spawned>(process: T): T {
  started.add(process);
  return process;
}

/** Stops processes (see stopProcess) and forgets them. */
export async function stop(...processes: Spawned[]): Promise<void> {
  await Promise.all(processes.map((p) => stopProcess(p)));
  for (const p of processes) started.delete(p);
}

/** SIGKILLs, by pid, every tracked process still running: the run is being abandoned. */
export function killStarted(): void {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

/** A free TCP port on 127.0.0.1 (free when asked: the process started next takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function httpOk(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function redisPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Waits until `probe` answers true, failing early (with its output) if the process exits. */
export async function waitReady(target: Spawned, probe: () => Promise<boolean>): Promise<void> {
  let exited: number | string | undefined;
  void target.exited.then((code) => (exited = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await probe())) {
    if (exited !== undefined) {
      throw new Error(`${target.name} exited (${exited}) before it was ready:\n${target.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${target.name} not ready after ${START_TIMEOUT_MS} ms:\n${target.output()}`);
    }
    await sleep(50);
  }
}

export interface Server extends Spawned {
  readonly port: number;
}

/** Starts a Node server script on a free port and waits until GET `healthPath` answers 200. */
export async function startNodeServer(options: {
  readonly name: string;
  /** The `node` binary to run it on. */
  readonly node: string;
  readonly script: string;
  readonly args?: (port: number) => string[];
  readonly nodeFlags?: readonly string[];
  readonly env: (port: number) => NodeJS.ProcessEnv;
  readonly healthPath: string;
  readonly cpu: number | undefined;
  readonly cwd: string;
}): Promise<Server> {
  const port = await freePort();
  const argv = [
    options.node,
    ...(options.nodeFlags ?? []),
    options.script,
    ...(options.args?.(port) ?? []),
  ];
  const spawned = spawnPinned(options.name, argv, {
    cpu: options.cpu,
    env: options.env(port),
    cwd: options.cwd,
  });
  try {
    await waitReady(spawned, () => httpOk(port, options.healthPath));
  } catch (error) {
    await stopProcess(spawned, 1000);
    throw error;
  }
  return { ...spawned, port };
}

/**
 * Starts a private redis-server (no persistence) on a free port (or `port`), with `extraArgs`
 * after the bench's own (the last of a repeated option counts).
 */
export async function startRedis(
  cpu: number | undefined,
  cwd: string,
  options: { readonly port?: number; readonly extraArgs?: readonly string[] } = {},
): Promise<Server> {
  const port = options.port ?? (await freePort());
  const argv = ['redis-server', '--port', String(port), '--bind', '127.0.0.1'];
  argv.push('--save', '', '--appendonly', 'no', '--protected-mode', 'yes');
  argv.push(...(options.extraArgs ?? []));
  const name = `redis-server :${port}`;
  const spawned = spawnPinned(name, argv, { cpu, env: { PATH: process.env.PATH }, cwd });
  try {
    await waitReady(spawned, () => redisPong(port));
  } catch (error) {
    await stopProcess(spawned, 1000);
    throw error;
  }
  return { ...spawned, port };
}

/** A client that reported problems: the run lost, duplicated or garbled messages. */
export class ClientFailure extends Error {
  constructor(
    readonly client: string,
    readonly problems: readonly string[],
  ) {
    super(`${client}: ${problems.join('; ')}`);
    this.name = 'ClientFailure';
  }
}

type ReportOf<T extends ClientReport['type']> = Extract<ClientReport, { type: T }>;

/** A load-client process and its IPC conversation (see client-protocol.ts). */
export class LoadClient {
  private readonly inbox: ClientReport[] = [];
  private waiter?: () => void;
  private failure?: Error;

  private constructor(readonly spawned: Spawned) {
    spawned.child.on('message', (message: ClientReport) => {
      if (message.type === 'failed')
        this.failure = new ClientFailure(spawned.name, message.problems);
      else this.inbox.push(message);
      this.waiter?.();
    });
    void spawned.exited.then((code) => {
      this.failure ??= new Error(
        `${spawned.name} exited (${code}) unexpectedly:\n${spawned.output()}`,
      );
      this.waiter?.();
    });
  }

  static start(
    name: string,
    script: string,
    job: ClientJob,
    placement: Placement,
    node: string,
  ): LoadClient {
    const cpu = placement.taskset ? placement.clientCpu : undefined;
    const spawned = spawnPinned(name, [node, script, JSON.stringify(job)], {
      cpu,
      env: { PATH: process.env.PATH, NODE_ENV: 'production' },
      cwd: process.cwd(),
      ipc: true,
    });
    return new LoadClient(spawned);
  }

  get pid(): number {
    return this.spawned.pid;
  }

  send(type: RunnerCommand['type']): void {
    this.spawned.child.send({ type } satisfies RunnerCommand);
  }

  /** The next report, which must be of `type`; rejects on a failure report or an early exit. */
  async next<T extends ClientReport['type']>(type: T): Promise<ReportOf<T>> {
    for (;;) {
      const message = this.inbox.shift();
      if (message) {
        if (message.type !== type)
          throw new Error(`${this.spawned.name}: ${message.type} before ${type}`);
        return message as ReportOf<T>;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  /** Waits for the process to end, killing it (by pid) if it does not on its own. */
  async close(): Promise<void> {
    const timer = setTimeout(() => this.spawned.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.spawned.exited;
    clearTimeout(timer);
  }
}
