import { Clock } from '../common/clock';

interface Window {
  start: number;
  count: number;
}

/**
 * Per-connection message rate limit: at most `max` messages per window of `windowMs`.
 *
 * Each key's window starts at its first message and the next one at the first message after it
 * ends, so windows are never aligned to the wall clock and a burst of max+N lets exactly `max`
 * through. O(1) time per call and one small record per active key; `release` frees it, and the
 * transport releases a connection's record when it closes.
 */
export class RateLimiter<K = unknown> {
  private readonly windows = new Map<K, Window>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Counts one message for `key` and says whether it is within the limit. */
  allow(key: K): boolean {
    const now = this.clock.now();
    const window = this.windows.get(key);
    if (window === undefined) {
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    if (now - window.start >= this.windowMs) {
      window.start = now;
      window.count = 1;
      return true;
    }
    if (window.count >= this.max) return false;
    window.count++;
    return true;
  }

  /**
   * Takes back one message counted for `key` in its current window, for a message that turned
   * out to belong to another budget (see MessageThrottles). A window that has rolled over since
   * the message was counted loses one message it never held; the error is at most one message
   * per window, and only for messages that waited behind a handler in flight.
   */
  refund(key: K): void {
    const window = this.windows.get(key);
    if (window !== undefined && window.count > 0) window.count--;
  }

  release(key: K): void {
    this.windows.delete(key);
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.windows.size;
  }
}
