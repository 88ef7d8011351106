import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createApp, type CreateAppOptions } from '../../src/app.factory';
import { loadConfig, type Environment } from '../../src/config/load-config';

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
