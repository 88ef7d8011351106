import { Global, Module } from '@nestjs/common';
import { Bus } from '../bus/bus';
import { RedisBus } from '../bus/redis-bus';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ChannelHistory } from './channel-history';
import { MemoryChannelHistory } from './memory-channel-history';
import { RedisChannelHistory } from './redis-channel-history';

/**
 * Provides the ChannelHistory beside the Bus, on the same engine: Redis streams when the bus is
 * Redis, memory otherwise. With HISTORY_SIZE=0 it provides null and channels behave as before:
 * no positions, no recovery, at-most-once.
 */
@Global()
@Module({
  providers: [
    {
      provide: ChannelHistory,
      inject: [AppConfig, Bus, Clock],
      useFactory: (config: AppConfig, bus: Bus, clock: Clock): ChannelHistory | null => {
        const { size, ttlMs } = config.history;
        if (size === 0) return null;
        if (bus instanceof RedisBus) {
          return new RedisChannelHistory(bus, {
            prefix: config.redis.prefix,
            size,
            ttlSeconds: Math.ceil(ttlMs / 1000),
          });
        }
        return new MemoryChannelHistory(bus, { size, ttlMs, clock });
      },
    },
  ],
  exports: [ChannelHistory],
})
export class HistoryModule {}
