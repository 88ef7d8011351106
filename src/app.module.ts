import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { AuthModule } from './auth/auth.module';
import { BusModule } from './bus/bus.module';
import { CommonModule } from './common/common.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ConnectionsModule } from './connections/connections.module';
import { ConsoleModule } from './console/console.module';
import { FeaturesModule } from './features/features.module';
import { HealthModule } from './health/health.module';
import { HeartbeatModule } from './heartbeat/heartbeat.module';
import { HistoryModule } from './history/history.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LimitsModule } from './limits/limits.module';
import { MetricsModule } from './metrics/metrics.module';
import { PresenceModule } from './presence/presence.module';
import { RoomsModule } from './rooms/rooms.module';
import { PubSubModule } from './pubsub/pubsub.module';
import { TransportModule } from './transport/transport.module';

@Module({})
export class AppModule {
  /**
   * The whole application for one validated configuration; `extra` modules (test-only and bench
   * gateways) are imported beside the application's own.
   */
  static register(config: AppConfig, extra: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Lower layers first (README "Layout").
        ConfigModule.forConfig(config),
        CommonModule,
        ConnectionsModule,
        RoomsModule,
        LimitsModule,
        AuthModule,
        BusModule,
        HeartbeatModule,
        TransportModule,
        HistoryModule,
        PubSubModule,
        PresenceModule,
        FeaturesModule,
        HealthModule,
        LifecycleModule,
        MetricsModule,
        ConsoleModule.register(config),
        ApiModule.register(config),
        ...extra,
      ],
    };
  }
}
