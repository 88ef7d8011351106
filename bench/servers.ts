/**
 * The servers a bench run starts: Switchboard (dist/main.js, production settings), Switchboard
 * with the bench-only gateways, and the bare-`ws` baseline, each on the server CPU and tracked so
 * that an abandoned run kills it by pid.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { JS_DIR, MAIN, RESULTS, ROOT } from './child-scripts';
import { startNodeServer, track, type Placement, type Server } from './processes';
import type { ScenarioContext, Timing } from './scenarios';

/** The largest RATE_LIMIT_MAX Switchboard accepts: no benchmark connection comes near it. */
const BENCH_RATE_LIMIT_MAX = 1_000_000_000;

export interface ServerOptions {
  /** Run under `--cpu-prof`, writing bench/results/<profile>. */
  readonly profile?: string;
  /** Open the inspector on this port (the idle scenario forces GCs through it). */
  readonly inspectPort?: number;
}

function nodeFlags({ profile, inspectPort }: ServerOptions): string[] {
  const flags: string[] = [];
  if (profile) flags.push('--cpu-prof', `--cpu-prof-dir=${RESULTS}`, `--cpu-prof-name=${profile}`);
  if (inspectPort !== undefined) flags.push(`--inspect=127.0.0.1:${inspectPort}`);
  return flags;
}

export class Bench {
  private readonly jwtSecret = randomBytes(24).toString('hex');
  readonly context: ScenarioContext;

  constructor(
    readonly placement: Placement,
    timing: Timing,
    readonly node: string,
  ) {
    this.context = { node, clientScript: join(JS_DIR, 'load-client.js'), placement, timing };
  }

  private get serverCpu(): number | undefined {
    return this.placement.taskset ? this.placement.serverCpu : undefined;
  }

  /** Where helpers such as Redis run: the client CPU, when pinning. */
  get helperCpu(): number | undefined {
    return this.placement.taskset ? this.placement.clientCpu : undefined;
  }

  /** What Switchboard runs with, apart from PORT, PATH and any Redis settings. */
  switchboardEnv(rateLimit: 'raised' | 'default' = 'raised'): Record<string, string> {
    return {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      JWT_SECRET: this.jwtSecret,
      // Per-connection "connection open/closed" info lines would otherwise be logged 10,000 times.
      LOG_LEVEL: 'warn',
      ...(rateLimit === 'raised' ? { RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT_MAX) } : {}),
    };
  }

  /** switchboardEnv as the report shows it: the secret masked. */
  get reportedEnv(): Record<string, string> {
    return { ...this.switchboardEnv(), JWT_SECRET: '(random, 48 hex characters)' };
  }

  async switchboard(
    name: string,
    options: ServerOptions & {
      rateLimit?: 'raised' | 'default';
      redis?: Record<string, string>;
    } = {},
  ): Promise<Server> {
    return track(
      await startNodeServer({
        name,
        node: this.node,
        script: MAIN,
        nodeFlags: nodeFlags(options),
        env: (port) => ({
          PATH: process.env.PATH,
          ...this.switchboardEnv(options.rateLimit),
          ...options.redis,
          PORT: String(port),
        }),
        // With Redis, /ready answers 200 only once the bus is connected to it.
        healthPath: options.redis ? '/ready' : '/health',
        cpu: this.serverCpu,
        cwd: ROOT,
      }),
    );
  }

  /** Switchboard with the bench-only gateways of enhancers-server.ts, same environment. */
  async switchboardWithEnhancers(name: string): Promise<Server> {
    return track(
      await startNodeServer({
        name,
        node: this.node,
        script: join(JS_DIR, 'enhancers-server.js'),
        env: (port) => ({ PATH: process.env.PATH, ...this.switchboardEnv(), PORT: String(port) }),
        healthPath: '/health',
        cpu: this.serverCpu,
        cwd: ROOT,
      }),
    );
  }

  async baseline(name: string, options: ServerOptions = {}): Promise<Server> {
    return track(
      await startNodeServer({
        name,
        node: this.node,
        script: join(JS_DIR, 'baseline-server.js'),
        args: (port) => [String(port)],
        nodeFlags: nodeFlags(options),
        env: () => ({ PATH: process.env.PATH, NODE_ENV: 'production' }),
        healthPath: '/',
        cpu: this.serverCpu,
        cwd: ROOT,
      }),
    );
  }
}

export const urlOf = (server: Server) => `ws://127.0.0.1:${server.port}`;
