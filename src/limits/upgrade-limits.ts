import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { clientIp } from './client-ip';
import { ConnectRateLimit } from './connect-rate-limit';
import { IpConnectionCounts } from './ip-connection-counts';

/** What an upgrade gets past a per-IP limit. */
export const TOO_MANY_REQUESTS = 429;

/**
 * The per-client-IP limits on WebSocket upgrades, both answered with HTTP 429:
 * - MAX_CONNECTIONS_PER_IP open sockets on this instance (IpConnectionCounts);
 * - CONNECT_RATE_LIMIT upgrades per CONNECT_RATE_WINDOW_MS, in the shared ThrottlerStorage.
 * With both at 0 (the default) `refusalFor` returns undefined at once and reads nothing. The
 * rate check is the only asynchronous step, and only when CONNECT_RATE_LIMIT is set.
 */
@Injectable()
export class UpgradeLimits {
  readonly openSockets?: IpConnectionCounts;
  readonly connectRate?: ConnectRateLimit;
  private readonly trustProxy: boolean;

  constructor(
    config: AppConfig,
    @Inject(ThrottlerStorage) storage: ThrottlerStorage,
    clock: Clock,
  ) {
    this.trustProxy = config.trustProxy;
    if (config.maxConnectionsPerIp > 0) {
      this.openSockets = new IpConnectionCounts(config.maxConnectionsPerIp);
    }
    if (config.connectRate.limit > 0) {
      this.connectRate = new ConnectRateLimit(
        storage,
        { ...config.connectRate, keyPrefix: `${config.redis.prefix}connect:` },
        clock,
      );
    }
  }

  /**
   * 429 when `request` is over a per-IP limit, else undefined; a promise of either when the rate
   * has to be asked of the storage. An admitted socket holds its per-IP slot until it closes, a
   * refused one too until the refusal has closed it, so every slot taken is given back.
   */
  refusalFor(
    request: IncomingMessage,
    socket: Duplex,
  ): number | undefined | Promise<number | undefined> {
    const { openSockets, connectRate } = this;
    if (!openSockets && !connectRate) return undefined;
    const ip = clientIp(request, this.trustProxy);
    if (openSockets) {
      if (!openSockets.tryAcquire(ip)) return TOO_MANY_REQUESTS;
      socket.once('close', () => openSockets.release(ip));
    }
    if (!connectRate) return undefined;
    return connectRate.allows(ip).then((allowed) => (allowed ? undefined : TOO_MANY_REQUESTS));
  }
}
