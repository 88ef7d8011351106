import { randomBytes } from 'node:crypto';
import type { Bus, BusMessage } from '../bus/bus';
import type { Clock } from '../common/clock';
import {
  ChannelHistory,
  type HistoryRead,
  type Publication,
  type StreamPosition,
} from './channel-history';

export interface MemoryChannelHistoryOptions {
  /** HISTORY_SIZE: publications kept per channel. */
  readonly size: number;
  /** HISTORY_TTL_SECONDS in ms: a channel's state is dropped this long after its last publication. */
  readonly ttlMs: number;
  readonly clock: Clock;
  /** A new random id per process unless a spec passes one. */
  readonly processEpoch?: string;
}

interface ChannelStream {
  epoch: string;
  offset: number;
  readonly publications: Publication[];
  expiresAt: number;
}

/**
 * History in one process, over the in-memory bus. Epochs are the process's own id plus a counter,
 * so a restart, or a channel that expired and started again, never reuses an offset of an old
 * epoch. Memory is bounded: channels are kept in order of last publication, and those past their
 * TTL are dropped from the front on every publish and read (subscribers or not: their history
 * is gone as it would be on Redis).
 */
export class MemoryChannelHistory extends ChannelHistory {
  private readonly streams = new Map<string, ChannelStream>();
  private readonly processEpoch: string;
  private epochs = 0;

  constructor(
    private readonly bus: Bus,
    private readonly options: MemoryChannelHistoryOptions,
  ) {
    super();
    this.processEpoch = options.processEpoch ?? randomBytes(6).toString('base64url');
  }

  publish(message: BusMessage): Promise<StreamPosition> {
    const stream = this.touch(message.topic);
    stream.offset++;
    stream.publications.push({ offset: stream.offset, data: message.data });
    if (stream.publications.length > this.options.size) stream.publications.shift();
    stream.expiresAt = this.options.clock.now() + this.options.ttlMs;
    // Re-inserted: the map stays ordered by expiry, so the sweep stops at the first live one.
    this.streams.delete(message.topic);
    this.streams.set(message.topic, stream);
    const position = { epoch: stream.epoch, offset: stream.offset };
    this.bus.publish({ ...message, ...position });
    return Promise.resolve(position);
  }

  read(topic: string, since?: number): Promise<HistoryRead> {
    const stream = this.touch(topic);
    const position = { epoch: stream.epoch, offset: stream.offset };
    const publications =
      since === undefined ? [] : stream.publications.filter((entry) => entry.offset > since);
    return Promise.resolve({ position, publications });
  }

  /** Number of channels holding state; for specs. */
  get channelCount(): number {
    return this.streams.size;
  }

  /** The channel's live stream, a new one (new epoch, offset 0) when it had none or it expired. */
  private touch(topic: string): ChannelStream {
    this.sweep();
    let stream = this.streams.get(topic);
    if (stream === undefined) {
      stream = {
        epoch: `${this.processEpoch}-${++this.epochs}`,
        offset: 0,
        publications: [],
        expiresAt: this.options.clock.now() + this.options.ttlMs,
      };
      this.streams.set(topic, stream);
    }
    return stream;
  }

  private sweep(): void {
    const now = this.options.clock.now();
    for (const [topic, stream] of this.streams) {
      if (stream.expiresAt > now) return;
      this.streams.delete(topic);
    }
  }
}
