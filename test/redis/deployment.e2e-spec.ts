import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { EnvironmentVariables } from '../../src/config/environment';
import { loadConfig } from '../../src/config/load-config';
import { startApp } from '../support/app';
import { freePort } from '../support/redis';

/**
 * docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine: what
 * can be read statically is read, and the compose environment goes through the app's own config
 * validation. (js-yaml comes with eslint and @nestjs/cli; see js-yaml.d.ts.)
 */
const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  init?: boolean;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
}

const compose = load(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const apps = ['app1', 'app2'] as const;

/** Compose's interpolation: `${NAME:-default}` and `${NAME:?error}`, with NAME from `shell`. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+):([-?])([^}]*)\}/g, (_, name: string, kind, text: string) => {
    if (shell[name] !== undefined) return shell[name];
    if (kind === '-') return text;
    throw new Error(`compose refuses to start: ${name}: ${text}`);
  });
}

/** What an operator would export: a secret production accepts. */
const OPERATOR_SHELL = { JWT_SECRET: 'an-operator-secret-of-at-least-32-bytes' };

describe('docker-compose.yml', () => {
  it('runs Redis and two app instances', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app1', 'app2', 'redis']);
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

  it('publishes the instances on host ports 3001 and 3002, each on its PORT', () => {
    for (const [name, hostPort] of [
      ['app1', '3001'],
      ['app2', '3002'],
    ] as const) {
      const app = compose.services[name];
      expect(app.ports).toEqual([`${hostPort}:${app.environment?.PORT}`]);
    }
    expect(compose.services.app1.environment).toEqual(compose.services.app2.environment);
  });

  it.each(apps)('%s requires JWT_SECRET from the environment, with no default', (name) => {
    const secret = String(compose.services[name].environment?.JWT_SECRET);
    expect(secret).toMatch(/^\$\{JWT_SECRET:\?.*\bJWT_SECRET\b.*\}$/);
    expect(() => interpolate(secret, {})).toThrow(/JWT_SECRET/);
  });

  it('sets only variables the app reads, with values its config validation accepts', () => {
    const known = Object.keys(new EnvironmentVariables());
    for (const name of apps) {
      const environment = compose.services[name].environment ?? {};
      expect(Object.keys(environment).filter((key) => !known.includes(key))).toEqual([]);
      const resolved = Object.fromEntries(
        Object.entries(environment).map(([key, value]) => [
          key,
          interpolate(String(value), OPERATOR_SHELL),
        ]),
      );
      const config = loadConfig(resolved);
      expect(config.nodeEnv).toBe('production');
      expect(config.redis).toEqual({
        target: { kind: 'single', url: 'redis://redis:6379' },
        prefix: 'switchboard:',
      });
    }
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
      expect(await exitCode(process.execPath, [flag, script], { PORT: port })).toBe(0);
    } finally {
      await running.close();
    }
    expect(
      await exitCode(process.execPath, [flag, script], { PORT: String(await freePort()) }),
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

/** Runs `command` with `env` added and resolves its exit code; fails after 5 s. */
function exitCode(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within 5 s`));
    }, 5000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}
