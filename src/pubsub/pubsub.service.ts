import { Injectable } from '@nestjs/common';
import { Bus, type BusMessage, type JsonValue } from '../bus/bus';
import { ConnectionRegistry } from '../connections/connection-registry';
import { channelMessage } from '../protocol/json-messages';
import { channelOf } from '../protocol/topics';
import { RoomRegistry } from '../rooms/room-registry';
import type { Connection } from '../transport/connection';
import { PreparedFrame } from '../transport/prepared-frame';
import { sendPrepared } from './fan-out';

/**
 * Joins local sockets to topics and delivers bus messages to them.
 *
 * A topic is subscribed on the bus when its first local member joins and unsubscribed when its
 * last one leaves, so the bus (and Redis behind it) carries only topics this instance needs.
 * Every delivery is encoded once per wire format, however many members receive it.
 */
@Injectable()
export class PubSubService {
  constructor(
    private readonly bus: Bus,
    private readonly rooms: RoomRegistry<Connection>,
    connections: ConnectionRegistry,
  ) {
    connections.onRemove((connection) => this.leaveAll(connection));
  }

  join(topic: string, connection: Connection): void {
    if (this.rooms.join(topic, connection)) this.bus.subscribe(topic, this.deliver);
  }

  leave(topic: string, connection: Connection): void {
    if (this.rooms.leave(topic, connection)) this.bus.unsubscribe(topic, this.deliver);
  }

  leaveAll(connection: Connection): void {
    for (const topic of this.rooms.leaveAll(connection)) this.bus.unsubscribe(topic, this.deliver);
  }

  isMember(topic: string, connection: Connection): boolean {
    return this.rooms.roomsOf(connection)?.has(topic) ?? false;
  }

  /** Number of topics `connection` is a member of. */
  membershipCount(connection: Connection): number {
    return this.rooms.roomsOf(connection)?.size ?? 0;
  }

  /**
   * Publishes `data` on `topic` to every member on every instance. With `skipSender`, the
   * publishing connection itself is left out.
   */
  publish(topic: string, data: JsonValue, sender?: Connection, skipSender = false): void {
    this.bus.publish({ topic, data, sender: sender?.id, skipSender });
  }

  /**
   * Bus listener shared by every topic. Encodes and frames at most once per wire format, lazily,
   * and writes the same bytes to every member without awaiting any of them.
   */
  private readonly deliver = (message: BusMessage): void => {
    const members = this.rooms.members(message.topic);
    if (!members) return;
    const skip = message.skipSender ? message.sender : undefined;
    let text: PreparedFrame | undefined;
    let json: PreparedFrame | undefined;
    for (const member of members) {
      if (member.id === skip) continue;
      const frame =
        member.endpoint.format === 'json'
          ? (json ??= PreparedFrame.of(JSON.stringify(jsonFrameOf(message))))
          : (text ??= PreparedFrame.of(textFrameOf(message.data)));
      sendPrepared(member, frame);
    }
  };
}

/** Text endpoints receive a string as itself and any other JSON value as JSON text. */
function textFrameOf(data: JsonValue): string {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

function jsonFrameOf(message: BusMessage): JsonValue {
  const channel = channelOf(message.topic) ?? message.topic;
  return channelMessage(channel, message.data) as unknown as JsonValue;
}
