import type { JsonValue, MessageData, Since, SubscribedData } from './protocol.js';

export type MessageHandler = (
  message: JsonValue,
  offset: number | undefined,
  channel: string,
) => void;

/**
 * One channel's subscription: its handlers and its position. `offset` is the last offset
 * delivered (or the channel's offset when subscribed without history to replay), so a
 * resubscription asks for exactly what came after it, and anything at or below it is a duplicate.
 *
 * While a subscribe request is in flight, live messages are held, then delivered after the
 * reply's recovered publications, duplicates dropped: recovered before live, in offset order.
 */
export class Subscription {
  epoch: string | undefined;
  offset: number | undefined;
  /** True from the first `subscribed` until unsubscribe(). */
  active = false;
  private held: MessageData[] | undefined;
  readonly handlers = new Set<MessageHandler>();

  constructor(
    readonly channel: string,
    private readonly unsubscribeFn: (subscription: Subscription) => Promise<void>,
    /** Whether the subscription asks for `presence_diff` frames. */
    readonly presence = false,
  ) {}

  /** Ends the subscription on the server and locally; the handlers receive nothing more. */
  unsubscribe(): Promise<void> {
    return this.unsubscribeFn(this);
  }

  /** The `since` of a resubscription: the last known position, when there is one. */
  since(): Since | undefined {
    return this.offset === undefined ? undefined : { offset: this.offset, epoch: this.epoch };
  }

  /** A subscribe request left: hold live messages until its reply. */
  hold(): void {
    this.held ??= [];
  }

  /** Applies a `subscribed` reply; answers false when the server could not replay everything. */
  applySubscribed(data: SubscribedData): boolean {
    this.active = true;
    if (data.epoch !== undefined && data.epoch !== this.epoch) {
      // Offsets of another epoch mean nothing in this one.
      this.epoch = data.epoch;
      if (data.recovered !== undefined) this.offset = 0;
    }
    for (const publication of data.publications ?? [])
      this.deliver(publication.message, publication.offset);
    if (data.offset !== undefined && (this.offset === undefined || data.offset > this.offset))
      this.offset = data.offset;
    const held = this.held ?? [];
    this.held = undefined;
    for (const message of held) this.receive(message);
    return data.recovered !== false;
  }

  /** The subscribe failed or the socket dropped: held messages are replayed by the next since. */
  release(): void {
    this.held = undefined;
  }

  receive(data: MessageData): void {
    if (this.held) this.held.push(data);
    else this.deliver(data.message, data.offset);
  }

  private deliver(message: JsonValue, offset: number | undefined): void {
    if (offset !== undefined) {
      if (this.offset !== undefined && offset <= this.offset) return;
      this.offset = offset;
    }
    for (const handler of this.handlers) handler(message, offset, this.channel);
  }
}
