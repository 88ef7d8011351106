import type { IncomingMessage } from 'node:http';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { InstanceId } from '../common/instance-id';
import { clientIp } from './client-ip';
import { ConnectionLimits, OperationalLimits } from './connection-limits';
import { DescriptorWatch } from './descriptor-watch';
import { MESSAGE_THROTTLER } from './message-throttle-policy';
import { MessageThrottles } from './message-throttles';
import { PayloadBounds } from './payload-limits';
import { PendingSockets } from './pending-sockets';
import { createThrottlerStorage } from './throttler-storage';
import { UpgradeLimits } from './upgrade-limits';

/**
 * Limits on clients, declared with @nestjs/throttler. Its `default` throttler is RATE_LIMIT_MAX
 * per RATE_LIMIT_WINDOW_MS, and `@Throttle()` / `@SkipThrottle()` change it per gateway, handler
 * or controller:
 * - WebSocket messages are counted per connection by MessageThrottles, which the transport asks
 *   for every frame before decoding it;
 * - HTTP requests are counted per client IP (TRUST_PROXY as for upgrades) and route by
 *   ThrottlerGuard, which each controller applies with `@UseGuards` (not APP_GUARD: a global
 *   guard would also run on every WebSocket message that goes through Nest's wrapper);
 * - the per-IP upgrade limits (UpgradeLimits) count in the same ThrottlerStorage, in Redis when
 *   REDIS_URL is set.
 * Also the cap on sockets not yet upgraded, what one connection may hold (ConnectionLimits) and
 * the shape of a payload (PayloadBounds). Every limit's variable, default and rule is in
 * environment.ts.
 */
@Global()
@Module({
  imports: [
    DiscoveryModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, InstanceId],
      useFactory: (config: AppConfig, instance: InstanceId) => ({
        throttlers: [
          {
            name: MESSAGE_THROTTLER,
            limit: config.rateLimit.max,
            ttl: config.rateLimit.windowMs,
          },
        ],
        getTracker: (request: Record<string, unknown>) =>
          clientIp(request as unknown as IncomingMessage, config.trustProxy),
        storage: createThrottlerStorage(config, instance.value),
      }),
    }),
  ],
  providers: [
    ConnectionLimits,
    OperationalLimits,
    {
      provide: PayloadBounds,
      inject: [AppConfig],
      useFactory: ({ payloadBounds }: AppConfig) =>
        new PayloadBounds(payloadBounds.maxDepth, payloadBounds.maxEntries),
    },
    MessageThrottles,
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
  exports: [
    ThrottlerModule,
    ConnectionLimits,
    OperationalLimits,
    PayloadBounds,
    MessageThrottles,
    UpgradeLimits,
    PendingSockets,
  ],
})
export class LimitsModule {}
