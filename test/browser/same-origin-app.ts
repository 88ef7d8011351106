import type { Server } from 'node:http';
import { createApp } from '../../src/app.factory';
import { loadConfig, type Environment } from '../../src/config/load-config';
import type { RunningApp } from '../support/app';
import { freePort } from '../support/redis';

/** Tries before giving up when another process takes the reserved port first. */
const LISTEN_ATTEMPTS = 5;

export interface SameOriginApp extends RunningApp {
  /** The origin the console page is served from, and the only one ALLOWED_ORIGINS lists. */
  readonly origin: string;
}

/**
 * Boots the real application (same factory as main.ts and startApp) with ALLOWED_ORIGINS set to
 * the origin the console is served from, so that the page's sockets pass the Origin check only
 * because they are same-origin.
 *
 * startApp listens on port 0, but the origin contains the port and the configuration must be
 * complete before boot; so a free port is reserved first, and a boot that loses it to another
 * process (EADDRINUSE) is retried on a new one.
 */
export async function startSameOriginApp(env: Environment = {}): Promise<SameOriginApp> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      ...env,
      ALLOWED_ORIGINS: origin,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const app = await createApp(config, { logger: ['error'] });
    try {
      await app.listen(port, '127.0.0.1');
    } catch (error) {
      await app.close();
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || attempt === LISTEN_ATTEMPTS) throw error;
      continue;
    }
    return {
      app,
      server: app.getHttpServer() as Server,
      origin,
      httpUrl: origin,
      wsUrl: `ws://127.0.0.1:${port}`,
      close: () => app.close(),
    };
  }
}
