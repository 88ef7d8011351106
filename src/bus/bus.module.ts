import { Global, Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { OperationalLimits } from '../limits/connection-limits';
import { PayloadBounds } from '../limits/payload-limits';
import { AppConfig } from '../config/app-config';
import { InstanceId } from '../common/instance-id';
import { Bus } from './bus';
import { InMemoryBus } from './in-memory-bus';
import { RedisBus } from './redis-bus';

/**
 * Provides the Bus: Redis pub/sub between instances when REDIS_URL
 * or REDIS_CLUSTER_NODES is set (sharded pub/sub on a cluster), in-memory (one
 * process) otherwise. Either way the application boots at once; a Redis bus connects in the
 * background and readiness reports it.
 */
@Global()
@Module({
  providers: [
    {
      provide: Bus,
      inject: [AppConfig, InstanceId, Clock, PayloadBounds, OperationalLimits],
      useFactory: (
        config: AppConfig,
        instance: InstanceId,
        clock: Clock,
        payloadBounds: PayloadBounds,
        limits: OperationalLimits,
      ): Bus => {
        const { target, prefix, busSecret } = config.redis;
        if (target === undefined) return new InMemoryBus();
        return new RedisBus({
          target,
          prefix,
          instance: instance.value,
          secret: busSecret,
          maxMessageBytes: config.maxMessageBytes,
          payloadBounds,
          clock,
          maxPendingPublishes: limits.maxPendingPublishes,
        });
      },
    },
  ],
  exports: [Bus],
})
export class BusModule {}
