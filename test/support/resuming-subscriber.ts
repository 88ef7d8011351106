import { envelope, type JsonFrame } from './json-client';
import type { TestClient } from './ws-client';

/** A channel position: the epoch and the offset of the last publication seen in it. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/** What a ResumingSubscriber went through, in arrival order. */
export type SubscriberEvent =
  /** A publication: live (`message`) or listed by a `subscribed` reply (`recovered`). */
  | {
      readonly kind: 'publication';
      readonly at: number;
      readonly epoch: string;
      readonly offset: number;
      readonly message: unknown;
      readonly live: boolean;
    }
  /** A `subscribed` reply: where the subscription starts, and for a resume whether all came. */
  | {
      readonly kind: 'subscribed';
      readonly at: number;
      readonly since?: Position;
      readonly position: Position;
      readonly recovered?: boolean;
      /** How many publications the reply listed (they follow this event). */
      readonly listed: number;
    }
  /** The server ended the subscription (`unsubscribed` with a reason). */
  | { readonly kind: 'ended'; readonly at: number; readonly reason: string }
  /** A subscribe refused (`error`), retried after RETRY_MS. */
  | { readonly kind: 'refused'; readonly at: number; readonly message: string };

/** Pause before subscribing again after a refusal, as a client backs off. */
const RETRY_MS = 100;

/**
 * A /ws/json subscriber of one channel (history on) that behaves as docs/protocol.md asks of a
 * client: it keeps the epoch and the last offset, and when the server ends its subscription
 * (`unsubscribed` with a reason) it subscribes again with `since` that position, retrying while
 * the server refuses. Every frame is recorded with its arrival time (SubscriberEvent), read
 * ahead of the TestClient's own queue, so a wait on the TestClient sees it already recorded.
 */
export class ResumingSubscriber {
  readonly events: SubscriberEvent[] = [];
  private position?: Position;
  private pendingId?: string;
  private pendingSince?: Position;
  private requests = 0;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly client: TestClient,
    readonly channel: string,
  ) {
    client.socket.prependListener('message', this.onFrame);
  }

  /** The last position seen, once subscribed. */
  get last(): Position | undefined {
    return this.position;
  }

  /** Publications received (live and recovered), in arrival order. */
  get publications(): Extract<SubscriberEvent, { kind: 'publication' }>[] {
    return this.events.filter((event) => event.kind === 'publication');
  }

  /** Subscribes from `since` (or from now); resolves once subscribed. */
  async subscribe(since?: Position, timeoutMs = 5000): Promise<void> {
    const before = this.subscriptions();
    this.send(since);
    await this.client.until(
      () => this.subscriptions() > before,
      `subscribed to ${this.channel}`,
      timeoutMs,
    );
  }

  /** Resolves once `done` holds (checked on every frame); rejects after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return this.client.until(done, `${what} (${this.channel})`, timeoutMs);
  }

  /** No more resubscribing: the test is over for this client. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private subscriptions(): number {
    return this.events.filter((event) => event.kind === 'subscribed').length;
  }

  private send(since?: Position): void {
    this.pendingId = `s${++this.requests}`;
    this.pendingSince = since;
    const payload = since ? { channel: this.channel, since } : { channel: this.channel };
    this.client.send(envelope('subscribe', payload, this.pendingId));
  }

  private readonly onFrame = (data: Buffer, isBinary: boolean): void => {
    if (isBinary) return;
    const frame = JSON.parse(data.toString()) as JsonFrame;
    const at = Date.now();
    const fields = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.type === 'message' && fields.channel === this.channel && this.position) {
      const offset = fields.offset as number;
      this.events.push({
        kind: 'publication',
        at,
        epoch: this.position.epoch,
        offset,
        message: fields.message,
        live: true,
      });
      this.position = { epoch: this.position.epoch, offset };
    } else if (frame.type === 'subscribed' && frame.id === this.pendingId) {
      this.onSubscribed(at, fields);
    } else if (frame.type === 'unsubscribed' && frame.id === undefined) {
      this.events.push({ kind: 'ended', at, reason: String(fields.reason) });
      this.resubscribe();
    } else if (frame.type === 'error' && frame.id === this.pendingId) {
      this.events.push({ kind: 'refused', at, message: String(fields.message) });
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.resubscribe(), RETRY_MS);
    }
  };

  private onSubscribed(at: number, fields: Record<string, unknown>): void {
    const since = this.pendingSince;
    const epoch = fields.epoch as string;
    const recovered = fields.recovered as boolean | undefined;
    const listed = (fields.publications ?? []) as { offset: number; message: unknown }[];
    this.events.push({
      kind: 'subscribed',
      at,
      since,
      position: { epoch, offset: fields.offset as number },
      recovered,
      listed: listed.length,
    });
    for (const { offset, message } of listed) {
      this.events.push({ kind: 'publication', at, epoch, offset, message, live: false });
    }
    this.position = { epoch, offset: fields.offset as number };
  }

  private resubscribe(): void {
    if (this.stopped || !this.client.isOpen) return;
    this.send(this.position);
  }
}
