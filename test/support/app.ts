import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createApp, type CreateAppOptions } from '../../src/app.factory';
import { loadConfig, type Environment } from '../../src/config/load-config';
import { ConnectionRegistry } from '../../src/connections/connection-registry';
import { waitForValue } from './wait';
import { TestClients } from './ws-client';

export interface RunningApp {
  readonly app: INestApplication;
  readonly server: Server;
  /** Base WebSocket URL, e.g. ws://127.0.0.1:54321 */
  readonly wsUrl: string;
  /** Base HTTP URL, e.g. http://127.0.0.1:54321 */
  readonly httpUrl: string;
  close(): Promise<void>;
}

/**
 * Boots the real application (same factory as main.ts) on an ephemeral port of 127.0.0.1.
 * `env` goes through the same validation as the process environment; PORT is always 0.
 */
export async function startApp(
  env: Environment = {},
  options: CreateAppOptions = { logger: ['error'] },
): Promise<RunningApp> {
  const config = loadConfig({ NODE_ENV: 'test', ...env, PORT: '0', HOST: '127.0.0.1' });
  const app = await createApp(config, options);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    close: () => app.close(),
  };
}

/** What a describe block gets from useApp. `running` and `connections` exist once it started. */
export interface AppFixture {
  readonly running: RunningApp;
  readonly connections: ConnectionRegistry;
  readonly clients: TestClients;
}

/**
 * Boots the app once for the enclosing describe block; after each test closes every client the
 * test opened and waits until the server has seen them all go (so nothing leaks into the next
 * test); closes the app after all tests. `options` go to createApp (the logger stays quiet unless
 * they set one), e.g. `{ imports: [TestGatewaysModule] }` to mount test-only gateways.
 */
export function useApp(env: Environment = {}, options?: CreateAppOptions): AppFixture {
  let running: RunningApp | undefined;
  const started = (): RunningApp => {
    if (!running) throw new Error('useApp: the app is not started yet (use it inside a test)');
    return running;
  };
  const fixture: AppFixture = {
    get running() {
      return started();
    },
    get connections() {
      return started().app.get(ConnectionRegistry);
    },
    clients: new TestClients(() => started().wsUrl),
  };
  beforeAll(async () => {
    running = await startApp(env, options && { logger: ['error'], ...options });
  });
  afterEach(async () => {
    await fixture.clients.closeAll();
    const { connections } = fixture;
    await waitForValue(() => connections.size, 0, 'the number of open connections');
  });
  afterAll(async () => {
    await running?.close();
  });
  return fixture;
}
