import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { InstanceId } from '../transport/instance-id';
import { createThrottlerStorage } from './throttler-storage';
import { UpgradeLimits } from './upgrade-limits';

/**
 * Rate limits by client: @nestjs/throttler's module, with its storage in Redis when REDIS_URL
 * is set, and the per-IP upgrade limits built on it. Named throttlers for HTTP routes and
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
  providers: [UpgradeLimits],
  exports: [ThrottlerModule, UpgradeLimits],
})
export class LimitsModule {}
