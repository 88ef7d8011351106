import { Global, Module } from '@nestjs/common';
import { Bus } from '../bus/bus';
import { RedisBus } from '../bus/redis-bus';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { MemoryPresenceStore, PresenceStore } from './presence-store';
import { PresenceService } from './presence.service';
import { RedisPresenceStore } from './redis-presence-store';

/** Presence beside the Bus, on the same engine: Redis when the bus is Redis, memory otherwise. */
@Global()
@Module({
  providers: [
    PresenceService,
    {
      provide: PresenceStore,
      inject: [AppConfig, Bus, Clock],
      useFactory: (config: AppConfig, bus: Bus, clock: Clock): PresenceStore => {
        if (!(bus instanceof RedisBus)) return new MemoryPresenceStore();
        // Leases of 2/3 of the TTL, refreshed every 1/6 (PresenceService): a dead instance's
        // members are removed within 5/6 of the TTL, leaving room for the two diff batches, and
        // a live instance may miss two refreshes before its members expire.
        const leaseMs = (config.presence.ttlSeconds * 1000 * 2) / 3;
        return new RedisPresenceStore(bus.commands, clock, {
          prefix: config.redis.prefix,
          leaseMs,
        });
      },
    },
  ],
  exports: [PresenceService, PresenceStore],
})
export class PresenceModule {}
