import type { Server as HttpServer } from 'node:http';
import type {
  DynamicModule,
  INestApplication,
  LogLevel,
  ModuleMetadata,
  NestApplicationOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { apiBodyErrors } from './api/api-body-errors';
import { serveOpenApi } from './api/openapi';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { ConnectionRegistry } from './connections/connection-registry';
import { ConnectionLimits, OperationalLimits } from './limits/connection-limits';
import { applyHttpServerLimits } from './limits/http-server-limits';
import { PendingSockets } from './limits/pending-sockets';
import {
  createHttpLog,
  createJsonLog,
  levelForNestLevels,
  type LogDestination,
} from './logging/json-log';
import { NestJsonLogger } from './logging/nest-json-logger';
import { TransportStats } from './metrics/transport-stats';
import { Admission } from './transport/upgrade/admission';
import { buildGatewayHandlers } from './transport/dispatch/gateway-handlers';
import { InstanceId } from './common/instance-id';
import { MessageDispatcher } from './transport/dispatch/message-dispatcher';
import { ParamIdGuard } from './transport/upgrade/param-id.guard';
import { SwitchboardWsAdapter } from './transport/switchboard-ws.adapter';

export interface CreateAppOptions {
  /**
   * Overrides LOG_LEVEL with a list of Nest levels, the most verbose listed being the threshold
   * (`['error']` keeps tests quiet; `false` silences). Default: LOG_LEVEL.
   */
  readonly logger?: false | LogLevel[];
  /** Where the JSON log lines go, one per write. Default: process.stdout. */
  readonly logDestination?: LogDestination;
  /**
   * Builds the Nest application from the root module. Default: NestFactory.create. The e2e
   * fixture passes a testing module's, to override providers (a fake Clock and Scheduler).
   */
  readonly build?: (
    root: DynamicModule,
    options: NestApplicationOptions,
  ) => Promise<INestApplication>;
  /** More modules to import, with gateways of their own (the test suites', the bench's). */
  readonly imports?: ModuleMetadata['imports'];
}

/**
 * Builds the application exactly as production runs it: main.ts and the e2e tests both start
 * here, so tests exercise the real adapter and wiring.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const log = createJsonLog({
    level: options.logger === undefined ? config.logLevel : levelForNestLevels(options.logger),
    destination: options.logDestination,
    maxLineChars: config.logLimits.maxLineChars,
  });
  // The logger exists before Nest does, so bootstrap lines are JSON too, with no buffering.
  const build = options.build ?? ((root, nestOptions) => NestFactory.create(root, nestOptions));
  const app = (await build(AppModule.register(config, options.imports), {
    logger: new NestJsonLogger(log),
    abortOnError: false,
  })) as NestExpressApplication;
  // Advertising the framework helps only someone matching exploits to versions.
  app.disable('x-powered-by');
  app.use(createHttpLog(log, config.logLimits.maxFieldChars));
  // JSON bodies are capped like WebSocket messages; the API answers a bad one in its own shape.
  app.useBodyParser('json', { limit: config.maxMessageBytes });
  app.use(apiBodyErrors);
  // Before listen(): Node reads the checking interval when the server starts listening.
  const server: HttpServer = app.getHttpServer();
  applyHttpServerLimits(server, config);
  app.get(PendingSockets).attach(server);
  const adapter = new SwitchboardWsAdapter(app, {
    config,
    connections: app.get(ConnectionRegistry),
    dispatcher: app.get(MessageDispatcher),
    instanceId: app.get(InstanceId),
    guards: [app.get(ParamIdGuard)],
    admission: app.get(Admission),
    limits: app.get(ConnectionLimits),
    operationalLimits: app.get(OperationalLimits),
    stats: app.get(TransportStats),
  });
  // The gateways exist once NestFactory.create returns; sockets arrive only after listen().
  adapter.useGatewayHandlers(buildGatewayHandlers(app));
  app.useWebSocketAdapter(adapter);
  serveOpenApi(app, config);
  return app;
}
