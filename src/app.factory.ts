import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { JwtConnectionGuard } from './auth/jwt-connection.guard';
import type { AppConfig } from './config/app-config';
import { ConnectionRegistry } from './connections/connection-registry';
import { TransportStats } from './metrics/transport-stats';
import { Admission } from './transport/admission';
import { InstanceId } from './transport/instance-id';
import { MessageDispatcher } from './transport/message-dispatcher';
import { ParamIdGuard } from './transport/param-id.guard';
import { SwitchboardWsAdapter } from './transport/switchboard-ws.adapter';

export interface CreateAppOptions {
  readonly logger?: false | LogLevel[];
}

/**
 * Builds the application exactly as production runs it: main.ts and the e2e tests both start
 * here, so tests exercise the real adapter and wiring.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.register(config), {
    logger: options.logger,
    abortOnError: false,
  });
  app.useWebSocketAdapter(
    new SwitchboardWsAdapter(app, {
      config,
      connections: app.get(ConnectionRegistry),
      dispatcher: app.get(MessageDispatcher),
      instanceId: app.get(InstanceId),
      guards: [app.get(ParamIdGuard), app.get(JwtConnectionGuard)],
      admission: app.get(Admission),
      stats: app.get(TransportStats),
    }),
  );
  return app;
}
