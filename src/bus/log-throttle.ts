import type { Clock } from '../common/clock';

/**
 * Lets one log line through per interval and counts the ones it held back, so a repeated problem
 * (a peer flooding malformed envelopes) shows in the log without flooding it.
 */
export class LogThrottle {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Returns undefined when the caller must stay silent, or the number of lines suppressed since
   * the last one that went through (0 for the first).
   */
  take(): number | undefined {
    const now = this.clock.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return undefined;
    }
    this.lastLoggedAt = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return suppressed;
  }
}
