import { Injectable } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../../bus/bus';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION, JsonErrorMessage } from '../../protocol/json-messages';
import { Topics } from '../../protocol/topics';
import { PubSubService } from '../../pubsub/pubsub.service';
import type { Connection } from '../../transport/connection';

/**
 * Named channels, one namespace shared by /ws/subscribe/{channel} and /ws/json: a publish on
 * either reaches the subscribers of both, through the bus.
 */
@Injectable()
export class ChannelsService {
  constructor(private readonly pubsub: PubSubService) {}

  /**
   * Subscribes `connection` to `channel`; idempotent. A connection holds at most
   * MAX_SUBSCRIPTIONS_PER_CONNECTION channels, so no client can grow server memory without bound.
   */
  subscribe(connection: Connection, channel: string): void {
    const topic = Topics.channel(channel);
    if (this.pubsub.isMember(topic, connection)) return;
    if (this.pubsub.membershipCount(connection) >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new WsException(JsonErrorMessage.tooManySubscriptions);
    }
    this.pubsub.join(topic, connection);
  }

  /** Unsubscribes `connection` from `channel`; idempotent. */
  unsubscribe(connection: Connection, channel: string): void {
    this.pubsub.leave(Topics.channel(channel), connection);
  }

  /** Publishes to every subscriber of `channel` on every instance, the sender included. */
  publish(channel: string, message: JsonValue, sender: Connection): void {
    this.pubsub.publish(Topics.channel(channel), message, sender);
  }
}
