import type { BusMessage, JsonValue } from '../bus/bus';

/** Where a channel stands: its epoch and the offset of its last publication (0 when none). */
export interface StreamPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** One retained publication. */
export interface Publication {
  readonly offset: number;
  readonly data: JsonValue;
}

/** What a history read returns: the position, and the retained publications after `since`. */
export interface HistoryRead {
  readonly position: StreamPosition;
  /** Ascending; empty when the read asked for none. */
  readonly publications: readonly Publication[];
}

/** A publication could not be stored (Redis unreachable or refusing): it was delivered to no one. */
export class HistoryUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('Channel history unavailable', { cause });
    this.name = 'HistoryUnavailableError';
  }
}

/**
 * The channel history beside the Bus (centrifuge's broker with history): every publication to a
 * channel topic takes the next offset of the channel's stream, is retained (HISTORY_SIZE entries,
 * HISTORY_TTL_SECONDS after the last one), and is then fanned out through the Bus carrying its
 * epoch and offset, to every instance, the publishing one included.
 *
 * Guarantees every implementation keeps:
 * - Offsets of one epoch are 1, 2, 3… with no reuse: storage that loses a channel's state starts
 *   a new epoch.
 * - `publish` resolves only once the publication is stored, and fans it out only then; when it
 *   rejects (HistoryUnavailableError), the publication was neither stored nor delivered, as far
 *   as this instance can tell (see docs/scaling.md on a timeout's ambiguity).
 * - Fan-out reaches each instance's listeners in offset order, except across a lost connection,
 *   which the caller repairs with `read`.
 */
export abstract class ChannelHistory {
  abstract publish(message: BusMessage): Promise<StreamPosition>;
  /**
   * The channel's position, and when `since` is given every retained publication with an offset
   * above it. A channel never published to gets an epoch at once (offset 0).
   */
  abstract read(topic: string, since?: number): Promise<HistoryRead>;
}

/**
 * Whether `publications` (read after `since`) are exactly since+1 … position.offset, in the
 * position's epoch: what the client asked for still exists in full.
 */
export function isComplete(since: number, read: HistoryRead): boolean {
  const { publications, position } = read;
  if (since > position.offset) return false;
  if (publications.length !== position.offset - since) return false;
  return publications.length === 0 || publications[0].offset === since + 1;
}
