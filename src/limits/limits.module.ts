import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { InstanceId } from '../transport/instance-id';
import { DescriptorWatch } from './descriptor-watch';
import { PendingSockets } from './pending-sockets';
import { createThrottlerStorage } from './throttler-storage';
import { UpgradeLimits } from './upgrade-limits';

/**
 * Limits on clients: @nestjs/throttler's module, with its storage in Redis when REDIS_URL is
 * set, the per-IP upgrade limits built on it, and the cap on sockets not yet upgraded. Named throttlers for HTTP routes and
 * gateways (@Throttle) go in `throttlers` below and count in the same storage.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, InstanceId],
      useFactory: (config: AppConfig, instance: InstanceId) => ({
        throttlers: [],
        storage: createThrottlerStorage(config, instance.value),
      }),
    }),
  ],
  providers: [
    UpgradeLimits,
    {
      provide: PendingSockets,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock) =>
        new PendingSockets(config.maxPendingSockets, clock),
    },
    {
      provide: DescriptorWatch,
      inject: [Clock],
      useFactory: (clock: Clock) => new DescriptorWatch(clock),
    },
  ],
  exports: [ThrottlerModule, UpgradeLimits, PendingSockets],
})
export class LimitsModule {}
