import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import baseRequest from 'superwstest';
import { createApp, type CreateAppOptions } from '../../src/app.factory';
import { Clock } from '../../src/common/clock';
import { Scheduler } from '../../src/common/scheduler';
import { loadConfig, type Environment } from '../../src/config/load-config';
import { ConnectionRegistry } from '../../src/connections/connection-registry';
import type { FakeTime } from './fake-time';
import { waitForValue, WAIT_MS } from './wait';
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

/** How to boot the app under test: createApp's options, plus time a test controls. */
export interface TestAppOptions extends CreateAppOptions {
  /** Replaces the application's Clock and Scheduler, so timer tests advance it instead of sleeping. */
  readonly time?: FakeTime;
}

/**
 * Boots the real application (same factory as main.ts) on an ephemeral port of 127.0.0.1.
 * `env` goes through the same validation as the process environment; PORT is always 0.
 * Without `options.logger` only errors are logged, unless a `logDestination` is given: then
 * LOG_LEVEL decides, as in production.
 */
export async function startApp(
  env: Environment = {},
  options: TestAppOptions = {},
): Promise<RunningApp> {
  const config = loadConfig({ NODE_ENV: 'test', ...env, PORT: '0', HOST: '127.0.0.1' });
  const { time, ...createOptions } = options;
  const app = await createApp(config, {
    logger: createOptions.logDestination ? undefined : ['error'],
    ...createOptions,
    ...(time && { build: buildWithTime(time) }),
  });
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

/** A Nest testing module over the root module, with `time` as its Clock and Scheduler. */
function buildWithTime(time: FakeTime): CreateAppOptions['build'] {
  return async (root, nestOptions) => {
    const moduleRef = await Test.createTestingModule({ imports: [root] })
      .overrideProvider(Clock)
      .useValue(time)
      .overrideProvider(Scheduler)
      .useValue(time)
      .compile();
    return moduleRef.createNestApplication(nestOptions);
  };
}

/** superwstest's request, its waits bounded by WAIT_MS (superwstest waits forever by default). */
export type WsRequest = ReturnType<typeof baseRequest>;

/** What a describe block gets from useApp. Its members exist once the app started. */
export interface AppFixture {
  readonly running: RunningApp;
  readonly connections: ConnectionRegistry;
  /** Our clients, for what superwstest lacks (raw frames, timing, many sockets at once). */
  readonly clients: TestClients;
  /**
   * superwstest against the app: `fixture.request().ws('/ws').sendText('a').expectText('Echo: a')`
   * (and supertest's `.get(…)`). It is given the app's URL, not its http.Server, so it neither
   * listens nor closes the server; useApp closes its sockets after each test.
   */
  request(): WsRequest;
}

/**
 * Boots the app once for the enclosing describe block; after each test closes every client the
 * test opened (ours and superwstest's) and waits until the server has seen them all go (so
 * nothing leaks into the next test); closes the app after all tests. `env` may be a function,
 * called at boot, for values known only then (a Redis URL); `options` go to startApp (a
 * FakeTime, a log destination, `imports` such as test-only gateway modules).
 */
export function useApp(
  env: Environment | (() => Environment) = {},
  options: TestAppOptions = {},
): AppFixture {
  let running: RunningApp | undefined;
  const started = (): RunningApp => {
    if (!running) throw new Error('useApp: the app is not started yet (use it inside a test)');
    return running;
  };
  // Scoped: closeAll closes this block's superwstest sockets only.
  const scopedRequest = baseRequest.scoped();
  const fixture: AppFixture = {
    get running() {
      return started();
    },
    get connections() {
      return started().app.get(ConnectionRegistry);
    },
    clients: new TestClients(() => started().wsUrl),
    request: () =>
      scopedRequest(started().httpUrl, {
        defaultExpectOptions: { timeout: WAIT_MS },
        defaultWaitForOptions: { timeout: WAIT_MS },
      }),
  };
  beforeAll(async () => {
    running = await startApp(typeof env === 'function' ? env() : env, options);
  });
  afterEach(async () => {
    scopedRequest.closeAll();
    await fixture.clients.closeAll();
    const { connections } = fixture;
    await waitForValue(() => connections.size, 0, 'the number of open connections');
  });
  afterAll(async () => {
    await running?.close();
  });
  return fixture;
}
