import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigError, loadConfigFromProcess } from './config/load-config';
import { GracefulShutdown } from './lifecycle/graceful-shutdown';

/** Beyond the socket drain, how long closing the rest (HTTP server, Redis) may take. */
const CLOSE_GRACE_MS = 5000;

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  // After createApp, so this goes through the JSON logger like every other line.
  const logger = new Logger('Switchboard');
  if (config.jwt.usingDevelopmentSecret) {
    logger.warn('JWT_SECRET is not set: using the public development secret (never in production)');
  }

  // Our own signal handling instead of enableShutdownHooks(): Nest's hooks re-raise the signal
  // after closing, so the process would end with 143/130 instead of 0 after a clean drain.
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining connections`);
    setTimeout(() => {
      logger.error('Shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + CLOSE_GRACE_MS).unref();
    await app.get(GracefulShutdown).drain();
    await app.close();
    logger.log('Stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal));
  }

  await app.listen(config.port, config.host);
  logger.log(`Listening on ${await app.getUrl()}`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${String(error)}\n`);
  process.exit(1);
});
