import { Inject, Injectable, Optional } from '@nestjs/common';
import { Bus, type JsonValue } from '../bus/bus';
import { ChannelsService } from '../features/channels/channels.service';
import { ChannelHistory } from '../history/channel-history';
import { PresenceService } from '../presence/presence.service';
import type { PresenceSnapshot } from '../presence/presence-member';
import { normaliseId } from '../protocol/ids';
import { ErrorMessages } from '../protocol/text-messages';
import { Topics } from '../protocol/topics';
import { ApiErrors } from './api-errors';

/** Where a publish landed; `epoch`/`offset` only with history on (HISTORY_SIZE > 0). */
export interface PublishResult {
  readonly channel: string;
  readonly epoch?: string;
  readonly offset?: number;
}

export type BroadcastResult = PublishResult | { readonly channel: string; readonly error: string };

export interface HistoryResult {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly publications: readonly { readonly offset: number; readonly message: JsonValue }[];
}

/**
 * What the HTTP API does with channels, through the same ChannelsService as /ws/json: a
 * publication from the API reaches every subscriber on every instance and endpoint exactly as
 * a client's publish would (no sender: nobody is skipped). Channel names are taken in their
 * canonical (NFC) form, as on /ws/json.
 */
@Injectable()
export class ChannelApi {
  constructor(
    private readonly channels: ChannelsService,
    private readonly bus: Bus,
    private readonly presenceService: PresenceService,
    @Optional() @Inject(ChannelHistory) private readonly history?: ChannelHistory | null,
  ) {}

  /** Rejects with 503 "Bus unavailable" when the bus is down: nothing was delivered then. */
  async publish(channel: string, message: JsonValue): Promise<PublishResult> {
    const id = normaliseId(channel);
    if (!this.bus.connected) throw ApiErrors.busUnavailable();
    try {
      const position = await this.channels.publish(id, message);
      return position ? { channel: id, ...position } : { channel: id };
    } catch {
      throw ApiErrors.busUnavailable();
    }
  }

  /** Publishes to every channel at once; a channel that failed carries its error instead. */
  async broadcast(channels: readonly string[], message: JsonValue): Promise<BroadcastResult[]> {
    return Promise.all(
      channels.map((channel) =>
        this.publish(channel, message).catch(() => ({
          channel: normaliseId(channel),
          error: ErrorMessages.busUnavailable,
        })),
      ),
    );
  }

  /** The channel's members on every instance (as the /ws/json `presence` reply). */
  presence(channel: string): Promise<PresenceSnapshot> {
    return this.presenceService.snapshot(normaliseId(channel)).catch(() => {
      throw ApiErrors.busUnavailable();
    });
  }

  /** The position and the retained publications after `since`, the oldest `limit` of them. */
  async read(channel: string, since = 0, limit?: number): Promise<HistoryResult> {
    if (!this.history) throw ApiErrors.historyOff();
    const id = normaliseId(channel);
    let read;
    try {
      read = await this.history.read(Topics.channel(id), since);
    } catch {
      throw ApiErrors.busUnavailable();
    }
    const publications = read.publications
      .slice(0, limit)
      .map(({ offset, data }) => ({ offset, message: data }));
    return { channel: id, ...read.position, publications };
  }
}
