export interface BackoffOptions {
  /** The first delay's upper bound, in ms. Default 500. */
  minDelayMs?: number;
  /** The bound no delay exceeds, in ms. Default 30000. */
  maxDelayMs?: number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in
 * [0, min(max, min·2ⁿ)], so clients dropped together do not come back together.
 */
export function backoffDelay(
  attempt: number,
  { minDelayMs = 500, maxDelayMs = 30_000 }: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30)));
}
