import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Clock } from '../common/clock';
import { FailOpenWarnings } from './fail-open-warnings';

/** The throttler name under which upgrades are counted (part of every storage key). */
export const CONNECT_THROTTLER = 'connect';

export interface ConnectRateOptions {
  /** Upgrades allowed per window and client IP (> 0). */
  readonly limit: number;
  readonly windowMs: number;
  /** Prepended to every key, so deployments sharing a Redis do not share budgets. */
  readonly keyPrefix: string;
  /**
   * CONNECT_RATE_STORAGE_TIMEOUT_MS: how long an upgrade waits for the storage (Redis) before it
   * is let through anyway. The default (250) is generous for a Redis round trip (well under a
   * millisecond on a LAN), short enough that an unanswering Redis does not hang upgrades.
   */
  readonly storageTimeoutMs: number;
}

/**
 * CONNECT_RATE_LIMIT: upgrades per CONNECT_RATE_WINDOW_MS per client IP, counted in the
 * ThrottlerStorage, so the budget holds across every instance sharing that storage (Redis).
 * It uses the storage exactly as @nestjs/throttler's guard does (block duration = window), so the
 * two agree on what a limit means.
 *
 * Fails open: when the storage errs or has not answered within `storageTimeoutMs` (Redis down
 * or frozen) the upgrade is allowed, a warning is logged (at most one per 10 s, with the count
 * of failures since the last one) and `failures` grows. Refusing every upgrade during a Redis
 * outage would turn a degraded limit into a full outage.
 */
export class ConnectRateLimit {
  private readonly warnings: FailOpenWarnings;
  /** Checks that failed open since boot. */
  failures = 0;

  constructor(
    private readonly storage: ThrottlerStorage,
    private readonly options: ConnectRateOptions,
    clock: Clock,
  ) {
    this.warnings = new FailOpenWarnings(
      new Logger(ConnectRateLimit.name),
      'connect rate limit storage failed: upgrade allowed without counting it',
      clock,
    );
  }

  /** Counts one upgrade from `ip`; resolves false when `ip` is over its budget. Never rejects. */
  async allows(ip: string): Promise<boolean> {
    const { limit, windowMs, keyPrefix, storageTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${storageTimeoutMs} ms`)),
        storageTimeoutMs,
      );
    });
    try {
      const record = await Promise.race([
        this.storage.increment(`${keyPrefix}${ip}`, windowMs, limit, windowMs, CONNECT_THROTTLER),
        timeout,
      ]);
      return !record.isBlocked;
    } catch (error) {
      this.failedOpen(error);
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  private failedOpen(error: unknown): void {
    this.failures++;
    this.warnings.failed(error);
  }
}
