import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigError, loadConfigFromProcess } from './config/load-config';

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
  const logger = new Logger('Switchboard');
  if (config.jwt.usingDevelopmentSecret) {
    logger.warn('JWT_SECRET is not set: using the public development secret (never in production)');
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  logger.log(`Listening on ${await app.getUrl()}`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${String(error)}\n`);
  process.exit(1);
});
