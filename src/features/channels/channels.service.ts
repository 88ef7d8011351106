import { Inject, Injectable, Optional } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../../bus/bus';
import {
  ChannelHistory,
  isComplete,
  type HistoryRead,
  type Publication,
  type StreamPosition,
} from '../../history/channel-history';
import { ConnectionLimits } from '../../limits/connection-limits';
import { JsonErrorMessage } from '../../protocol/json-messages';
import { ErrorMessages } from '../../protocol/text-messages';
import { Topics } from '../../protocol/topics';
import { PubSubService } from '../../pubsub/pubsub.service';
import type { Peer } from '../../transport/socket/peer';

/** Where a client resumes from: the last offset it received and, optionally, its epoch. */
export interface ResumePoint {
  readonly offset: number;
  readonly epoch?: string;
}

/** The data of a `subscribed` reply with history on. */
export interface SubscribedPosition extends StreamPosition {
  /** With `since` only: whether `publications` are exactly since+1 … offset. */
  readonly recovered?: boolean;
  readonly publications?: readonly RecoveredPublication[];
}

/** A publication as a `subscribed` reply lists it. */
export interface RecoveredPublication {
  readonly offset: number;
  readonly message: JsonValue;
}

/** A subscribe with history: its reply, and what to call once the reply is sent. */
export interface HistorySubscription {
  readonly position: SubscribedPosition;
  /** Sends what was published meanwhile (after `position.offset`) and delivers live from then. */
  readonly start: () => void;
}

/**
 * Named channels, one namespace shared by /ws/subscribe/{channel} and /ws/json: a publish on
 * either reaches the subscribers of both, through the bus. With HISTORY_SIZE > 0 every
 * publication goes through the ChannelHistory first and carries a position.
 */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly pubsub: PubSubService,
    private readonly limits: ConnectionLimits,
    @Optional() @Inject(ChannelHistory) private readonly history?: ChannelHistory | null,
  ) {}

  /** Whether channels have positions and recovery (HISTORY_SIZE > 0). */
  get hasHistory(): boolean {
    return Boolean(this.history);
  }

  /**
   * Subscribes `connection` to `channel`; idempotent. A connection holds at most
   * MAX_SUBSCRIPTIONS channels, so no client can grow server memory without bound.
   */
  subscribe(connection: Peer, channel: string): void {
    const topic = Topics.channel(channel);
    if (this.pubsub.isMember(topic, connection)) return;
    this.checkLimit(connection);
    this.pubsub.join(topic, connection);
  }

  /**
   * Subscribes with history (HISTORY_SIZE > 0): joins first and holds live publications, reads
   * the position (and after `since` the retained publications), then `start` sends the held
   * ones past the position. Nothing is lost or repeated between the read and live delivery.
   * Already subscribed: the position (and publications) only, live delivery goes on as it was.
   */
  async subscribeWithHistory(
    connection: Peer,
    channel: string,
    since?: ResumePoint,
  ): Promise<HistorySubscription> {
    const history = this.requireHistory();
    const topic = Topics.channel(channel);
    const already = this.pubsub.isMember(topic, connection);
    if (!already) {
      this.checkLimit(connection);
      this.pubsub.joinHeld(topic, connection);
    }
    let read: HistoryRead;
    try {
      // Live first, then history: a publication is either read or held, never neither.
      if (!already) await this.pubsub.whenSubscribed(topic);
      // With an epoch, all that is retained: another epoch gets it all, the same one is filtered.
      const from = since === undefined ? undefined : since.epoch === undefined ? since.offset : 0;
      read = await history.read(topic, from);
    } catch {
      if (!already) this.pubsub.leave(topic, connection);
      throw new WsException(ErrorMessages.busUnavailable);
    }
    const { epoch, offset } = read.position;
    this.pubsub.seed(topic, epoch, offset);
    const start = already ? noop : () => this.pubsub.release(topic, connection, epoch, offset);
    if (since === undefined) return { position: { epoch, offset }, start };
    const sameEpoch = since.epoch === undefined || since.epoch === epoch;
    const after = sameEpoch ? since.offset : 0;
    const retained = read.publications.filter((publication) => publication.offset > after);
    const recovered = sameEpoch && isComplete(since.offset, { ...read, publications: retained });
    const publications = retained.map(asRecovered);
    return { position: { epoch, offset, recovered, publications }, start };
  }

  /** Unsubscribes `connection` from `channel`; idempotent. */
  unsubscribe(connection: Peer, channel: string): void {
    this.pubsub.leave(Topics.channel(channel), connection);
  }

  /**
   * Publishes to every subscriber of `channel` on every instance, the sender included (no sender:
   * the HTTP API). With history on the publication is refused (rejects with WsException "Bus
   * unavailable") unless stored, and delivered only once stored, with its position; the promise
   * gives the position.
   */
  publish(channel: string, message: JsonValue, sender?: Peer): Promise<StreamPosition> | void {
    const topic = Topics.channel(channel);
    if (!this.history) {
      this.pubsub.publish(topic, message, sender);
      return;
    }
    return this.history.publish({ topic, data: message, sender: sender?.id }).catch(() => {
      throw new WsException(ErrorMessages.busUnavailable);
    });
  }

  private checkLimit(connection: Peer): void {
    if (this.pubsub.membershipCount(connection) >= this.limits.maxSubscriptions) {
      throw new WsException(JsonErrorMessage.tooManySubscriptions);
    }
  }

  private requireHistory(): ChannelHistory {
    if (!this.history) throw new Error('subscribeWithHistory needs HISTORY_SIZE > 0');
    return this.history;
  }
}

function noop(): void {}

function asRecovered({ offset, data }: Publication): RecoveredPublication {
  return { offset, message: data };
}
