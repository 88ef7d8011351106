import { Inject, Injectable, Optional } from '@nestjs/common';
import { Bus, type BusMessage, type JsonValue } from '../bus/bus';
import { ConnectionRegistry } from '../connections/connection-registry';
import { ChannelHistory } from '../history/channel-history';
import { ChannelSequencer } from '../history/channel-sequencer';
import { channelMessage, insufficientState } from '../protocol/json-messages';
import { channelOf } from '../protocol/topics';
import { RoomRegistry } from '../rooms/room-registry';
import type { Peer } from '../transport/socket/peer';
import { PreparedFrame } from '../transport/socket/prepared-frame';
import { sendPrepared } from '../transport/socket/fan-out';

/**
 * Joins local sockets to topics and delivers bus messages to them.
 *
 * A topic is subscribed on the bus when its first local member joins and unsubscribed when its
 * last one leaves, so the bus (and Redis behind it) carries only topics this instance needs.
 * Every delivery is encoded once per wire format, however many members receive it.
 */
@Injectable()
export class PubSubService {
  /** Orders channel publications that carry an offset; absent when HISTORY_SIZE=0. */
  private readonly sequencer?: ChannelSequencer;
  /**
   * Members in the middle of a subscribe with history: what reaches them waits here, by topic,
   * until their reply is sent (`release`), so nothing overtakes or repeats the recovered ones.
   */
  private readonly held = new Map<string, Map<Peer, Hold>>();

  constructor(
    private readonly bus: Bus,
    private readonly rooms: RoomRegistry<Peer>,
    connections: ConnectionRegistry,
    @Optional() @Inject(ChannelHistory) history?: ChannelHistory | null,
  ) {
    connections.onRemove((connection) => this.leaveAll(connection));
    if (history) {
      const sequencer = new ChannelSequencer({
        deliver: (message) => this.fanOut(message),
        read: (topic, since) => history.read(topic, since),
        lost: (topic) => this.endLostSubscriptions(topic),
      });
      this.sequencer = sequencer;
      bus.onResume(() => sequencer.resume());
    }
  }

  join(topic: string, connection: Peer): void {
    if (this.rooms.join(topic, connection)) this.bus.subscribe(topic, this.deliver);
  }

  /**
   * Joins and holds what reaches `connection` on `topic` until `release`: the start of a
   * subscribe that reads history (subscribe first, buffer, read, merge by offset).
   */
  joinHeld(topic: string, connection: Peer): void {
    let holds = this.held.get(topic);
    if (!holds) this.held.set(topic, (holds = new Map<Peer, Hold>()));
    holds.set(connection, { messages: [] });
    this.join(topic, connection);
  }

  /**
   * Sends what was held for `connection` on `topic` past `after` (an offset of `epoch`), and
   * delivers live from then on. Live publications this instance has not delivered yet may still
   * be at or below `after` (the history read can overtake them: they come on another Redis
   * connection): the connection skips those until one above `after` comes.
   */
  release(topic: string, connection: Peer, epoch: string, after: number): void {
    const hold = this.held.get(topic)?.get(connection);
    if (!hold?.messages || !this.isMember(topic, connection)) {
      this.stopHolding(topic, connection);
      return;
    }
    let floor = after;
    for (const message of hold.messages) {
      if (message.epoch === epoch && (message.offset ?? 0) <= floor) continue;
      if (message.epoch === epoch) floor = message.offset ?? floor;
      if (message.skipSender && message.sender === connection.id) continue;
      sendPrepared(connection, PreparedFrame.of(this.frameFor(connection, message)));
    }
    hold.messages = undefined;
    hold.floor = { epoch, offset: floor };
  }

  /** Resolves once publications on `topic` reach this instance (see Bus.whenSubscribed). */
  whenSubscribed(topic: string): Promise<void> {
    return this.bus.whenSubscribed(topic);
  }

  /** Seeds the order of `topic` on this instance with a position read from history. */
  seed(topic: string, epoch: string, offset: number): void {
    this.sequencer?.seed(topic, { epoch, offset });
  }

  leave(topic: string, connection: Peer): void {
    this.stopHolding(topic, connection);
    if (this.rooms.leave(topic, connection)) this.left(topic);
  }

  leaveAll(connection: Peer): void {
    for (const topic of this.rooms.leaveAll(connection)) {
      this.stopHolding(topic, connection);
      this.left(topic);
    }
    // A connection that left while held: its topic was already left above, or never joined.
    for (const topic of this.held.keys()) this.stopHolding(topic, connection);
  }

  isMember(topic: string, connection: Peer): boolean {
    return this.rooms.roomsOf(connection)?.has(topic) ?? false;
  }

  /** Number of topics `connection` is a member of. */
  membershipCount(connection: Peer): number {
    return this.rooms.roomsOf(connection)?.size ?? 0;
  }

  /**
   * Publishes `data` on `topic` to every member on every instance. With `skipSender`, the
   * publishing connection itself is left out.
   */
  publish(topic: string, data: JsonValue, sender?: Peer, skipSender = false): void {
    this.bus.publish({ topic, data, sender: sender?.id, skipSender });
  }

  /**
   * Bus listener shared by every topic. Encodes and frames at most once per wire format, lazily,
   * and writes the same bytes to every member without awaiting any of them.
   */
  private readonly deliver = (message: BusMessage): void => {
    if (this.sequencer && message.offset !== undefined) this.sequencer.accept(message);
    else this.fanOut(message);
  };

  private fanOut(message: BusMessage): void {
    const members = this.rooms.members(message.topic);
    if (!members) return;
    const skip = message.skipSender ? message.sender : undefined;
    const holds = this.held.get(message.topic);
    let text: PreparedFrame | undefined;
    let json: PreparedFrame | undefined;
    for (const member of members) {
      if (member.id === skip) continue;
      const hold = holds?.get(member);
      if (hold && this.holdsBack(hold, message, member)) continue;
      const frame =
        member.endpoint.format === 'json'
          ? (json ??= PreparedFrame.of(JSON.stringify(jsonFrameOf(message))))
          : (text ??= PreparedFrame.of(textFrameOf(message.data)));
      sendPrepared(member, frame);
    }
  }

  /** Whether `hold` keeps `message` from `member`: buffered, or at or below its floor. */
  private holdsBack(hold: Hold, message: BusMessage, member: Peer): boolean {
    if (hold.messages) {
      hold.messages.push(message);
      return true;
    }
    const { floor } = hold;
    if (floor && message.epoch === floor.epoch && (message.offset ?? 0) <= floor.offset) {
      return true;
    }
    // Past the floor: live delivery has caught up with what the subscribe reply covered.
    this.stopHolding(message.topic, member);
    return false;
  }

  private frameFor(connection: Peer, message: BusMessage): string {
    return connection.endpoint.format === 'json'
      ? JSON.stringify(jsonFrameOf(message))
      : textFrameOf(message.data);
  }

  /**
   * Publications of `topic` were lost for good: every /ws/json member not in the middle of its
   * own subscribe is told and unsubscribed (it resubscribes with `since` and learns what is
   * gone). Text members have no positions and simply go on.
   */
  private endLostSubscriptions(topic: string): void {
    const members = this.rooms.members(topic);
    const channel = channelOf(topic);
    if (!members || channel === undefined) return;
    const holds = this.held.get(topic);
    for (const member of [...members]) {
      if (member.endpoint.format !== 'json' || holds?.get(member)?.messages) continue;
      sendPrepared(member, PreparedFrame.of(JSON.stringify(insufficientState(channel))));
      this.leave(topic, member);
    }
  }

  private left(topic: string): void {
    this.bus.unsubscribe(topic, this.deliver);
    this.sequencer?.forget(topic);
  }

  private stopHolding(topic: string, connection: Peer): void {
    const holds = this.held.get(topic);
    if (!holds?.delete(connection)) return;
    if (holds.size === 0) this.held.delete(topic);
  }
}

/**
 * What keeps a subscribing connection's deliveries in line with its subscribe reply: first a
 * buffer (until the reply is sent), then a floor (until live delivery passes the reply's offset).
 */
interface Hold {
  messages?: BusMessage[];
  floor?: { readonly epoch: string; readonly offset: number };
}

/** Text endpoints receive a string as itself and any other JSON value as JSON text. */
function textFrameOf(data: JsonValue): string {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

function jsonFrameOf(message: BusMessage): JsonValue {
  const channel = channelOf(message.topic) ?? message.topic;
  return channelMessage(channel, message.data, message.offset) as unknown as JsonValue;
}
