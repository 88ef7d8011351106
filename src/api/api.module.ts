import { type DynamicModule, Module } from '@nestjs/common';
import { Bus } from '../bus/bus';
import { RedisBus } from '../bus/redis-bus';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { FeaturesModule } from '../features/features.module';
import { ApiController } from './api.controller';
import { ApiKeyGuard } from './api-key.guard';
import { ApiThrottlerGuard } from './api-throttler.guard';
import { ChannelApi } from './channel-api.service';
import {
  IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
} from './idempotency-store';
import { IdempotentCalls } from './idempotent-calls';
import { UserDisconnects } from './user-disconnects';

/**
 * The HTTP API under /api. Without API_KEYS none of it is registered, so every /api route
 * answers 404 as an unknown route does. Every instance of a deployment must share API_KEYS:
 * an instance without the API does not answer the others' disconnects.
 */
@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    if (config.api.keys.length === 0) return { module: ApiModule };
    return {
      module: ApiModule,
      imports: [FeaturesModule],
      controllers: [ApiController],
      providers: [
        ApiKeyGuard,
        ApiThrottlerGuard,
        ChannelApi,
        IdempotentCalls,
        UserDisconnects,
        {
          provide: IdempotencyStore,
          inject: [AppConfig, Bus, Clock],
          useFactory: (appConfig: AppConfig, bus: Bus, clock: Clock): IdempotencyStore =>
            bus instanceof RedisBus
              ? new RedisIdempotencyStore(bus.commands, appConfig.redis.prefix)
              : new MemoryIdempotencyStore(clock),
        },
      ],
    };
  }
}
