import type { JsonFrame } from './json-client';
import { envelope } from './json-client';
import { WAIT_MS } from './wait';
import type { TestClient } from './ws-client';

/** What `subscribed` carries with history on. */
export interface Subscribed {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly recovered?: boolean;
  readonly publications?: readonly { readonly offset: number; readonly message: unknown }[];
}

/** A delivery `{"type":"message","data":{channel, message, offset}}`. */
export interface Delivery {
  readonly channel: string;
  readonly message: unknown;
  readonly offset: number;
}

/**
 * A /ws/json client for the history suites: sends requests with ids and sorts what comes back
 * into replies (by id) and deliveries (in arrival order), whatever order they interleave in.
 */
export class HistoryClient {
  readonly deliveries: Delivery[] = [];
  /** `unsubscribed` frames the server sent on its own (with a reason). */
  readonly ended: { channel: string; reason: string }[] = [];
  private readonly replies = new Map<string, JsonFrame>();
  private nextId = 0;

  constructor(readonly socket: TestClient) {}

  async subscribe(
    channel: string,
    since?: { offset: number; epoch?: string },
  ): Promise<Subscribed> {
    const frame = await this.request('subscribe', since ? { channel, since } : { channel });
    if (frame.type !== 'subscribed') throw new Error(`subscribe got ${JSON.stringify(frame)}`);
    return frame.data as Subscribed;
  }

  /** Publishes; the `published` data, or the error message (`{error}`) when refused. */
  async publish(
    channel: string,
    message: unknown,
    timeoutMs = WAIT_MS,
  ): Promise<{ epoch: string; offset: number } | { error: string }> {
    const frame = await this.request('publish', { channel, message }, timeoutMs);
    if (frame.type === 'published') return frame.data as { epoch: string; offset: number };
    return { error: (frame.data as { message: string }).message };
  }

  /** Reads frames until `done` holds for the deliveries so far; fails after `timeoutMs`. */
  async readUntil(done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) await this.readOne(Math.max(deadline - Date.now(), 1));
  }

  async request(type: string, payload: unknown, timeoutMs = WAIT_MS): Promise<JsonFrame> {
    const id = `r${++this.nextId}`;
    this.socket.send(envelope(type, payload, id));
    const deadline = Date.now() + timeoutMs;
    while (!this.replies.has(id)) await this.readOne(Math.max(deadline - Date.now(), 1));
    const reply = this.replies.get(id)!;
    this.replies.delete(id);
    return reply;
  }

  private async readOne(timeoutMs: number): Promise<void> {
    const frame = JSON.parse(await this.socket.nextText(timeoutMs)) as JsonFrame;
    if (frame.type === 'ping') return; // the server's heartbeat, if a test runs that long
    if (frame.id !== undefined) this.replies.set(String(frame.id), frame);
    else if (frame.type === 'message') this.deliveries.push(frame.data as Delivery);
    else if (frame.type === 'unsubscribed') {
      this.ended.push(frame.data as { channel: string; reason: string });
    } else throw new Error(`Unexpected frame ${JSON.stringify(frame)}`);
  }
}
