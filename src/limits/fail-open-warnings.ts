import type { Logger } from '@nestjs/common';
import { LogThrottle } from '../bus/log-throttle';
import type { Clock } from '../common/clock';

/** At most one warning per this interval while a storage fails; the others are counted. */
const WARNING_INTERVAL_MS = 10_000;

/**
 * The warning a limit logs when its storage (Redis) fails and it lets the client through
 * uncounted: one line per 10 s at most, carrying the number of failures since the last line.
 */
export class FailOpenWarnings {
  private readonly throttle: LogThrottle;

  constructor(
    private readonly log: Logger,
    /** What was let through, e.g. "upgrade allowed without counting it". */
    private readonly message: string,
    clock: Clock,
  ) {
    this.throttle = new LogThrottle(WARNING_INTERVAL_MS, clock);
  }

  failed(error: unknown): void {
    const suppressed = this.throttle.take();
    if (suppressed === undefined) return;
    this.log.warn({
      msg: this.message,
      error: error instanceof Error ? error.message : String(error),
      failuresSinceLastWarning: suppressed + 1,
    });
  }
}
