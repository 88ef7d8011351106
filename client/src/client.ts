import { backoffDelay, type BackoffOptions } from './backoff.js';
import { SwitchboardCloseError, SwitchboardError } from './errors.js';
import {
  CloseCodes,
  type JsonValue,
  type PresenceDiffData,
  type ReplyData,
  type RequestPayloads,
  type RequestType,
  type ServerFrame,
} from './protocol.js';
import { Subscription, type MessageHandler } from './subscription.js';
import { tokenExpiryMs, withToken } from './token.js';

// Checked bivariantly, as methods are, so the browser's and ws's own event types both fit.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ClientOptions extends BackoffOptions {
  /** A token for `?token=`, used as is on every connection. */
  token?: string;
  /**
   * Called before each connection and before the token expires; its token is sent with
   * `refresh` on a live socket. After a 1008 close the client reconnects only when it yields a
   * token other than the refused one.
   */
  getToken?: () => string | Promise<string>;
  /** The WebSocket implementation; default the global one (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  /** How long a request waits for its reply (queue time included), in ms. Default 10000. */
  requestTimeoutMs?: number;
  /** The server's HEARTBEAT_INTERVAL_MS. A socket silent for twice this is dead. Default 30000. */
  heartbeatIntervalMs?: number;
  /** Refresh this long before the token's `exp`, in ms. Default 30000. */
  refreshMarginMs?: number;
  /** Requests held while not connected; more are rejected with `queue-full`. Default 100. */
  maxQueued?: number;
  /** Sees every text frame in (`in`) and out (`out`): for logs and debugging tools. */
  logger?: (direction: 'in' | 'out', text: string) => void;
  /** For tests: the source of backoff jitter. */
  random?: () => number;
}

export interface ClientEvents {
  state: ConnectionState;
  /** The server could not replay a channel's missed publications: refetch its state. */
  gap: { channel: string; reason: 'not recovered' | 'Insufficient state' };
  /** A connection ended; `willRetry` is false when the client stopped for good. */
  disconnect: { code: number; reason: string; willRetry: boolean };
  /** Anything the application cannot await: a failed refresh or resubscription, a fatal close. */
  error: Error;
  /** Who joined and left a channel subscribed with `{ presence: true }`. */
  presence: PresenceDiffData;
}

type Listener<K extends keyof ClientEvents> = (value: ClientEvents[K]) => void;

interface Pending {
  resolve: (data: never) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  frame?: string;
}

/** Codes that say the client is at fault: surfaced, never retried. */
const FATAL_CODES: readonly number[] = [
  CloseCodes.protocolError,
  CloseCodes.unsupportedData,
  CloseCodes.invalidPayload,
  CloseCodes.tooBig,
];

/**
 * A /ws/json connection that stays up: it reconnects with backoff (rotating through `url` when
 * it is a list), answers heartbeats, refreshes its token, and resubscribes every channel from
 * its last offset, so handlers see each publication once, in order, or a `gap` event.
 */
export class SwitchboardClient {
  state: ConnectionState = 'closed';
  private socket: WebSocketLike | undefined;
  private token: string | undefined;
  private attempt = 0;
  private urlIndex = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: number[] = [];
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listeners = new Map<keyof ClientEvents, Set<(value: never) => void>>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly urls: string[];
  private readonly Socket: WebSocketConstructor;

  constructor(
    url: string | string[],
    private readonly options: ClientOptions = {},
  ) {
    this.urls = Array.isArray(url) ? url : [url];
    if (this.urls.length === 0) throw new TypeError('No URL to connect to');
    const Socket =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Socket)
      throw new TypeError('No global WebSocket here: pass the WebSocket option (ws in Node)');
    this.Socket = Socket;
    this.token = options.token;
    this.open('connecting');
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Subscribes to `channel` (a second call adds a handler to the same subscription). Resolves
   * once the server answered `subscribed`; rejects with the server's error. With
   * `{ presence: true }` the channel's joins and leaves arrive as `presence` events, also after
   * every resubscription.
   */
  async subscribe(
    channel: string,
    onMessage: MessageHandler,
    options: { presence?: boolean } = {},
  ): Promise<Subscription> {
    let subscription = this.subscriptions.get(channel);
    if (!subscription) {
      subscription = new Subscription(channel, (s) => this.unsubscribe(s), options.presence);
      this.subscriptions.set(channel, subscription);
      subscription.handlers.add(onMessage);
      try {
        await this.resubscribe(subscription);
      } catch (error) {
        this.subscriptions.delete(channel);
        throw error;
      }
    } else subscription.handlers.add(onMessage);
    return subscription;
  }

  /** Resolves with the publication's epoch and offset once it is stored. */
  publish(channel: string, message: JsonValue): Promise<ReplyData['publish']> {
    return this.request('publish', { channel, message });
  }

  ping(): Promise<ReplyData['ping']> {
    return this.request('ping', undefined);
  }

  /** Who is subscribed to `channel`, on every instance. */
  presence(channel: string): Promise<ReplyData['presence']> {
    return this.request('presence', { channel });
  }

  /** Moves the session's deadline with `token`, which the client also uses from now on. */
  async refresh(token: string): Promise<ReplyData['refresh']> {
    const reply = await this.request('refresh', { token });
    this.token = token;
    this.scheduleRefresh();
    return reply;
  }

  /**
   * Sends `text` as is on the open socket, outside the client's bookkeeping: no id, no queue,
   * no reply matched. A debugging aid (the console sends hand-written frames with it); false
   * when there is no open socket.
   */
  sendFrame(text: string): boolean {
    if (this.state !== 'open' || !this.socket) return false;
    this.options.logger?.('out', text);
    this.socket.send(text);
    return true;
  }

  /** Closes for good: pending and queued requests are rejected with `closed`. */
  close(): void {
    this.stop(1000);
  }

  /**
   * Sends a request and resolves with its reply's data. While the client is connecting or
   * reconnecting it is queued (up to `maxQueued`) and sent on the next open; a request already
   * sent when the socket drops is rejected with `disconnected`, never resent.
   */
  request<T extends RequestType>(type: T, payload: RequestPayloads[T]): Promise<ReplyData[T]> {
    return this.call(type, payload);
  }

  /**
   * `request`, with `onReply` run as the reply is read: before any later frame, which a promise
   * continuation would not be.
   */
  private call<T extends RequestType>(
    type: T,
    payload: RequestPayloads[T],
    onReply?: (data: ReplyData[T]) => void,
  ): Promise<ReplyData[T]> {
    return new Promise((resolve, reject) => {
      if (this.state === 'closed') return reject(new SwitchboardError('closed', 'Client closed'));
      const id = this.nextId++;
      const frame = JSON.stringify({ type, payload, id });
      const timer = setTimeout(() => {
        this.forget(id);
        reject(new SwitchboardError('timeout', `No reply to ${type} in time`));
      }, this.options.requestTimeoutMs ?? 10_000);
      const pending: Pending = {
        resolve: (data: ReplyData[T]) => {
          onReply?.(data);
          resolve(data);
        },
        reject,
        timer,
      };
      if (this.state === 'open') this.sendFrame(frame);
      else if (this.queue.length >= (this.options.maxQueued ?? 100)) {
        clearTimeout(timer);
        return reject(new SwitchboardError('queue-full', 'Too many requests while reconnecting'));
      } else {
        pending.frame = frame;
        this.queue.push(id);
      }
      this.pending.set(id, pending);
    });
  }

  private async unsubscribe(subscription: Subscription): Promise<void> {
    if (this.subscriptions.get(subscription.channel) !== subscription) return;
    this.subscriptions.delete(subscription.channel);
    subscription.active = false;
    subscription.handlers.clear();
    if (this.state === 'open') await this.request('unsubscribe', { channel: subscription.channel });
  }

  private async resubscribe(subscription: Subscription): Promise<void> {
    subscription.hold();
    try {
      const since = subscription.since();
      const { channel, presence } = subscription;
      const payload = { channel, ...(since && { since }), ...(presence && { presence }) };
      await this.call('subscribe', payload, (data) => {
        if (this.subscriptions.get(channel) !== subscription) return;
        if (!subscription.applySubscribed(data))
          this.emit('gap', { channel, reason: 'not recovered' });
      });
    } catch (error) {
      subscription.release();
      throw error;
    }
  }

  private open(state: ConnectionState): void {
    this.setState(state);
    void this.connect();
  }

  private async connect(): Promise<void> {
    try {
      if (this.options.getToken) this.token = await this.options.getToken();
    } catch (error) {
      this.emit('error', error as Error);
      return this.retry();
    }
    if (this.state === 'closed') return;
    const url = this.urls[this.urlIndex % this.urls.length];
    const usedToken = this.token;
    let socket: WebSocketLike;
    try {
      socket = new this.Socket(withToken(url, usedToken));
    } catch (error) {
      // A URL the implementation refuses (a bad scheme, say) will not get better: stop.
      this.emit('error', error as Error);
      return this.stop(CloseCodes.abnormal);
    }
    this.socket = socket;
    this.watchSilence();
    socket.onopen = () => {
      this.attempt = 0;
      this.watchSilence();
      this.setState('open');
      for (const id of this.queue.splice(0)) {
        const pending = this.pending.get(id);
        if (pending?.frame) this.sendFrame(pending.frame);
        if (pending) pending.frame = undefined;
      }
      this.scheduleRefresh();
      for (const subscription of this.subscriptions.values())
        if (subscription.active) this.resubscribeInBackground(subscription);
    };
    socket.onmessage = (event) => {
      const text = String(event.data);
      this.options.logger?.('in', text);
      this.receive(text);
    };
    socket.onclose = (event) => this.dropped(socket, event.code, event.reason, usedToken);
    socket.onerror = () => undefined;
  }

  private resubscribeInBackground(subscription: Subscription): void {
    this.resubscribe(subscription).catch((error: Error) => {
      if (error instanceof SwitchboardError && error.code === 'disconnected') return;
      this.emit('error', error);
      // Bus unavailable and the like: try again after a backoff while the socket lives.
      setTimeout(
        () => {
          if (
            this.state === 'open' &&
            this.subscriptions.get(subscription.channel) === subscription
          )
            this.resubscribeInBackground(subscription);
        },
        backoffDelay(1, this.options, this.options.random) + 100,
      );
    });
  }

  private receive(text: string): void {
    this.watchSilence();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return this.emit('error', new Error('Unreadable frame from the server'));
    }
    if (frame.type === 'ping' && !('id' in frame)) {
      this.sendFrame('{"type":"pong"}');
      return;
    }
    if (frame.type === 'message')
      return this.subscriptions.get(frame.data.channel)?.receive(frame.data);
    if (frame.type === 'presence_diff') return this.emit('presence', frame.data);
    if (frame.type === 'unsubscribed' && frame.data.reason && frame.id === undefined) {
      const subscription = this.subscriptions.get(frame.data.channel);
      if (!subscription) return;
      this.emit('gap', { channel: subscription.channel, reason: frame.data.reason });
      return this.resubscribeInBackground(subscription);
    }
    const pending = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
    if (!pending) return;
    this.forget(frame.id as number);
    if (frame.type === 'error')
      pending.reject(new SwitchboardError('server', frame.data.message, frame.data.errors));
    else pending.resolve(frame.data as never);
  }

  private forget(id: number): void {
    const pending = this.pending.get(id);
    if (pending) clearTimeout(pending.timer);
    this.pending.delete(id);
    const queued = this.queue.indexOf(id);
    if (queued >= 0) this.queue.splice(queued, 1);
  }

  /** The socket ended: decide by its close code whether to come back. */
  private dropped(socket: WebSocketLike, code: number, reason: string, usedToken?: string): void {
    if (socket !== this.socket) return;
    this.detach();
    for (const subscription of this.subscriptions.values()) subscription.release();
    for (const [id, pending] of this.pending)
      if (!pending.frame) {
        this.forget(id);
        pending.reject(new SwitchboardError('disconnected', 'Connection lost before the reply'));
      }
    if (this.state === 'closed') return;
    if (FATAL_CODES.includes(code)) return this.fail(code, reason);
    if (code === CloseCodes.policyViolation) void this.afterRefusal(code, reason, usedToken);
    else this.retry(code, reason);
  }

  /** 1008: only a token other than the refused one is worth another attempt. */
  private async afterRefusal(code: number, reason: string, usedToken?: string): Promise<void> {
    let fresh: string | undefined;
    try {
      fresh = await this.options.getToken?.();
    } catch (error) {
      this.emit('error', error as Error);
    }
    if (fresh === undefined || fresh === usedToken) return this.fail(code, reason);
    this.retry(code, reason);
  }

  private retry(code = CloseCodes.abnormal as number, reason = ''): void {
    if (this.state === 'closed') return;
    this.emit('disconnect', { code, reason, willRetry: true });
    this.setState('reconnecting');
    // The next attempt goes to the next URL: another instance may be up while this one is not.
    this.urlIndex++;
    const delay = backoffDelay(this.attempt++, this.options, this.options.random);
    this.reconnectTimer = setTimeout(() => this.open('reconnecting'), delay);
  }

  private fail(code: number, reason: string): void {
    this.emit('disconnect', { code, reason, willRetry: false });
    this.emit('error', new SwitchboardCloseError(code, reason));
    this.stop(code);
  }

  private stop(code: number): void {
    const socket = this.socket;
    this.detach();
    this.setState('closed');
    if (socket && socket.readyState < 2) socket.close(code === 1000 ? 1000 : undefined);
    clearTimeout(this.reconnectTimer);
    for (const [id, pending] of this.pending) {
      this.forget(id);
      pending.reject(new SwitchboardError('closed', 'Client closed'));
    }
  }

  private detach(): void {
    const socket = this.socket;
    if (socket) socket.onopen = socket.onmessage = socket.onclose = null;
    this.socket = undefined;
    clearTimeout(this.silenceTimer);
    clearTimeout(this.refreshTimer);
  }

  /** No frame for two heartbeat intervals: the peer is gone, whatever TCP says. */
  private watchSilence(): void {
    clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.silenceTimer = setTimeout(
      () => {
        if (socket === this.socket && socket) {
          // ws's terminate() drops a dead TCP connection at once; close() would wait for it.
          const terminate = (socket as { terminate?: () => void }).terminate;
          if (terminate) terminate.call(socket);
          else socket.close();
          this.dropped(socket, CloseCodes.abnormal, 'Heartbeat timeout');
        }
      },
      2 * (this.options.heartbeatIntervalMs ?? 30_000),
    );
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const expiry = this.token && this.options.getToken ? tokenExpiryMs(this.token) : undefined;
    if (expiry === undefined || this.state !== 'open') return;
    // A token that lives less than the margin is refreshed halfway, not over and over.
    const left = expiry - Date.now();
    const delay = Math.max(left / 2, left - (this.options.refreshMarginMs ?? 30_000));
    this.refreshTimer = setTimeout(() => {
      void (async () => {
        try {
          await this.refresh(await this.options.getToken!());
        } catch (error) {
          // The server closes with 1008 Token expired at exp; the reconnect asks getToken again.
          this.emit('error', error as Error);
        }
      })();
    }, delay);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<K>)(value);
  }
}
