/**
 * Switchboard as dist/main.js builds it, plus two bench-only JSON gateways answering `ping` with
 * `pong` exactly like /ws/json does: one bare (the direct path), one carrying what a Nest
 * developer would put on a handler, a synchronous method guard, a DTO validation pipe on the
 * envelope and a pass-through interceptor (Nest's enhancers). The bench compares the server CPU
 * per message of the two (see run.ts, "enhancers"). Production code knows nothing of them.
 *
 * Runs on plain `node` from the transpiled copy in node_modules/.cache/switchboard-bench/, so the
 * application comes from dist/ (the cwd is the repository root) and shares its Nest packages.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { IsInt, IsString, MaxLength } from 'class-validator';
import type { Observable } from 'rxjs';
import type * as AppFactory from '../src/app.factory';
import type * as LoadConfig from '../src/config/load-config';
import type * as Endpoints from '../src/protocol/endpoints';
import type * as Gateway from '../src/transport/endpoint-gateway.decorator';
import type * as Validation from '../src/transport/dispatch/ws-validation.pipe';

const fromDist = createRequire(join(process.cwd(), 'dist', 'main.js'));
const { createApp } = fromDist('./app.factory') as typeof AppFactory;
const { loadConfigFromProcess } = fromDist('./config/load-config') as typeof LoadConfig;
const { Endpoints: endpoints } = fromDist('./protocol/endpoints') as typeof Endpoints;
const { EndpointGateway } = fromDist('./transport/endpoint-gateway.decorator') as typeof Gateway;
const { WsValidationPipe } = fromDist(
  './transport/dispatch/ws-validation.pipe',
) as typeof Validation;

const BARE_PATH = '/bench/json/bare';
const ENHANCED_PATH = '/bench/json/enhanced';

const PONG = { type: 'pong', data: {} };

/** The load client's ping envelope. */
class PingDto {
  @IsString()
  type!: string;

  @IsInt()
  id!: number;

  @IsString()
  @MaxLength(65_536)
  payload!: string;
}

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData() !== null;
  }
}

@Injectable()
class PassThroughInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@EndpointGateway({ ...endpoints.json, path: BARE_PATH })
class BarePingGateway {
  @SubscribeMessage('ping')
  ping(@MessageBody() _ping: PingDto): typeof PONG {
    return PONG;
  }
}

@EndpointGateway({ ...endpoints.json, path: ENHANCED_PATH })
class EnhancedPingGateway {
  @SubscribeMessage('ping')
  @UseGuards(AllowGuard)
  @UseInterceptors(PassThroughInterceptor)
  ping(@MessageBody(WsValidationPipe) _ping: PingDto): typeof PONG {
    return PONG;
  }
}

@Module({ providers: [BarePingGateway, EnhancedPingGateway] })
class BenchEnhancersModule {}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const app = await createApp(config, { imports: [BenchEnhancersModule] });
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
  await app.listen(config.port, config.host);
}

void main();
