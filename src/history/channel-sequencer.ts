import { Logger } from '@nestjs/common';
import type { BusMessage } from '../bus/bus';
import { isComplete, type HistoryRead, type StreamPosition } from './channel-history';

/** What the sequencer needs from its owner. */
export interface SequencerHooks {
  /** Delivers one publication to the topic's local members; called in offset order. */
  deliver(message: BusMessage): void;
  /** Reads history after `since` (ChannelHistory.read). */
  read(topic: string, since: number): Promise<HistoryRead>;
  /** The topic's members lost publications that no longer exist: end their subscriptions. */
  lost(topic: string): void;
}

export interface SequencerOptions {
  /** Reads of history tried for one gap before its subscribers are told it is lost. */
  readonly readAttempts: number;
  /** Pause between two of them: the Redis connections come back one at a time. */
  readonly retryDelayMs: number;
  /** Live publications held during a repair beyond which the gap is given up as lost. */
  readonly maxHeld: number;
}

export const DEFAULT_SEQUENCER_OPTIONS: SequencerOptions = {
  readAttempts: 10,
  retryDelayMs: 500,
  maxHeld: 10_000,
};

interface TopicState {
  epoch?: string;
  /** Offset of the last publication delivered on this instance. */
  offset: number;
  /** Set while history is read to fill a gap; live publications wait in `held`. */
  repairing: boolean;
  held: BusMessage[];
}

/**
 * Per-instance order of channel publications (centrifuge's recovery, applied to live delivery):
 * each topic with local members remembers the last offset delivered here. The next one is
 * delivered at once; an older one (a duplicate) is dropped; a jump, or a bus that resumed after
 * a lost connection, means publications were missed: they are read from history and delivered
 * in order before the newer ones, which wait meanwhile. When they no longer exist (or the epoch
 * changed), the topic's subscribers are told (`lost`) and delivery goes on from the new position.
 */
export class ChannelSequencer {
  private readonly logger = new Logger(ChannelSequencer.name);
  private readonly topics = new Map<string, TopicState>();

  constructor(
    private readonly hooks: SequencerHooks,
    private readonly options: SequencerOptions = DEFAULT_SEQUENCER_OPTIONS,
  ) {}

  /** Sets where the topic stands when nothing is known yet (the first subscriber's read). */
  seed(topic: string, position: StreamPosition): void {
    const state = this.stateOf(topic);
    if (state.epoch !== undefined) return;
    state.epoch = position.epoch;
    state.offset = position.offset;
  }

  /** The topic has no local member left. */
  forget(topic: string): void {
    this.topics.delete(topic);
  }

  accept(message: BusMessage): void {
    const state = this.stateOf(message.topic);
    if (state.repairing) {
      state.held.push(message);
      if (state.held.length > this.options.maxHeld) this.giveUp(message.topic, state);
      return;
    }
    const offset = message.offset ?? 0;
    if (state.epoch === undefined || message.epoch !== state.epoch) {
      // A new epoch under known subscribers: whatever the old one still had for them is gone.
      if (state.epoch !== undefined) this.hooks.lost(message.topic);
      state.epoch = message.epoch;
      state.offset = offset;
      this.hooks.deliver(message);
      return;
    }
    if (offset <= state.offset) return;
    if (offset === state.offset + 1) {
      state.offset = offset;
      this.hooks.deliver(message);
      return;
    }
    state.held.push(message);
    this.repair(message.topic, state);
  }

  /** Checks every known topic against history: the bus may have dropped publications. */
  resume(): void {
    for (const [topic, state] of this.topics) {
      if (state.epoch !== undefined && !state.repairing) this.repair(topic, state);
    }
  }

  private repair(topic: string, state: TopicState, attempt = 1): void {
    state.repairing = true;
    const since = state.offset;
    this.hooks.read(topic, since).then(
      (read) => this.repaired(topic, state, since, read),
      (error: unknown) => {
        if (this.topics.get(topic) !== state || !state.repairing) return;
        if (attempt < this.options.readAttempts) {
          const retry = setTimeout(() => {
            if (this.topics.get(topic) === state && state.repairing) {
              this.repair(topic, state, attempt + 1);
            }
          }, this.options.retryDelayMs);
          retry.unref();
          return;
        }
        this.logger.warn(`Cannot read the history of "${topic}": ${String(error)}`);
        this.giveUp(topic, state);
      },
    );
  }

  /** The gap cannot be filled: its subscribers are told, delivery goes on from the next one. */
  private giveUp(topic: string, state: TopicState): void {
    this.hooks.lost(topic);
    this.release(topic, state, null);
  }

  private repaired(topic: string, state: TopicState, since: number, read: HistoryRead): void {
    // Forgotten meanwhile, or given up (too much held) while the read was on its way.
    if (this.topics.get(topic) !== state || !state.repairing) return;
    if (read.position.epoch === state.epoch && isComplete(since, read)) {
      for (const publication of read.publications) {
        if (publication.offset <= state.offset) continue;
        state.offset = publication.offset;
        this.hooks.deliver({
          topic,
          data: publication.data,
          epoch: state.epoch,
          offset: publication.offset,
        });
      }
      this.release(topic, state, undefined);
      return;
    }
    this.hooks.lost(topic);
    this.release(topic, state, read.position);
  }

  /**
   * Ends a repair and runs the held publications in order. `restart`: go on from that position
   * (the gap was not filled), from the first held one (null: the position is unknown), or from
   * where the repair left off (undefined).
   */
  private release(
    topic: string,
    state: TopicState,
    restart: StreamPosition | null | undefined,
  ): void {
    state.repairing = false;
    if (restart === null) state.epoch = undefined;
    if (restart) {
      state.epoch = restart.epoch;
      state.offset = restart.offset;
    }
    const held = state.held;
    state.held = [];
    held.sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
    for (const message of held) {
      if (this.topics.get(topic) !== state) return;
      this.accept(message);
    }
  }

  private stateOf(topic: string): TopicState {
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = { offset: 0, repairing: false, held: [] };
      this.topics.set(topic, state);
    }
    return state;
  }
}
