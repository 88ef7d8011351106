import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Principal } from '../../auth/principal';
import type { TransportStats } from '../../metrics/transport-stats';
import { CloseCode, CloseReason } from '../../protocol/close-codes';
import type { EndpointDefinition } from '../../protocol/endpoints';
import { type PreparedFrame, writePrepared } from './prepared-frame';
import type { LivePeer } from './peer';
import type { Batchable, WriteBatcher } from './write-batcher';

/** What every connection of one server shares: limits and counters. Set once at accept. */
export interface ConnectionHost {
  readonly stats: TransportStats;
  readonly maxBufferedBytes: number;
  /**
   * SLOW_CONSUMER_GRACE_MS: how long a slow consumer's close frame may take before the socket is
   * destroyed.
   */
  readonly slowConsumerGraceMs: number;
  /** Absent in unit tests with fake sockets: writes then go out one by one. */
  readonly batcher?: WriteBatcher;
}

const AS_TEXT = { binary: false } as const;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A server-side WebSocket with the transport's per-connection state. The ws server instantiates
 * this class for every accepted socket (its `WebSocket` option), so the state lives on the socket
 * itself: no side maps to look up per message, and nothing to forget on close.
 *
 * `P` types the path parameters of the endpoint, e.g. `Connection<{ roomId: string }>`.
 */
export class Connection<P extends Record<string, string> = Record<string, string>>
  extends WebSocket
  implements Batchable, LivePeer<P>
{
  /** Unique across instances for the life of the process (instance id + sequence). */
  id = '';
  endpoint!: EndpointDefinition;
  /** Percent-decoded path parameters, already checked against the id rule. */
  params: Readonly<P> = NO_PARAMS as P;
  connectedAt = 0;
  /** Set when the connection presented a valid token. */
  principal: Principal | undefined = undefined;
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive = true;
  /** True while a handler for this connection has not settled; later frames wait in `backlog`. */
  inFlight = false;
  /** Frames that arrived while a handler was in flight, with their rate-limit verdicts. */
  readonly backlog: { readonly text: string; readonly allowed: boolean }[] = [];

  host!: ConnectionHost;

  get isOpen(): boolean {
    return this.readyState === WebSocket.OPEN;
  }

  /**
   * Queues a text frame without waiting for it, counts it, and sheds the connection if it is
   * a slow consumer: when its unsent data exceeds MAX_BUFFERED_BYTES it is closed with 1013, or
   * destroyed at once if its TCP buffer is already full (the close frame could not be sent), so
   * one client that stopped reading never holds unbounded memory. Returns whether it was queued.
   */
  sendText(data: string | Buffer): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.host.batcher?.hold(this);
    this.send(data, AS_TEXT);
    this.afterSend();
    return true;
  }

  /** As sendText, for a frame prepared once for many sockets (broadcasts, heartbeats). */
  sendFrame(frame: PreparedFrame): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.host.batcher?.hold(this);
    writePrepared(this, frame);
    this.afterSend();
    return true;
  }

  /**
   * Answers a client's ping (ws's autoPong is off, see SwitchboardWsAdapter) with the same
   * backlog check as every other send, so pongs to a peer that stopped reading cannot pile up.
   * Not counted as a sent message: it is a control frame.
   */
  sendPong(data: Buffer): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.host.batcher?.hold(this);
    this.pong(data);
    this.afterWrite();
    return true;
  }

  private afterSend(): void {
    this.host.stats.sent[this.endpoint.name]++;
    this.afterWrite();
  }

  private afterWrite(): void {
    // With a batcher the backlog is checked once the turn's writes have left (flushBatch):
    // bytes held for the batch are not a sign of a slow consumer.
    if (this.host.batcher === undefined) this.checkBacklog();
  }

  /** Part of Batchable: holds this socket's writes until the batcher flushes. */
  cork(): boolean {
    const tcp = this.tcp;
    if (!tcp || tcp.destroyed || tcp.writableCorked > 0) return false;
    tcp.cork();
    return true;
  }

  /** Part of Batchable. */
  flushBatch(): void {
    const tcp = this.tcp;
    if (tcp && tcp.writableCorked > 0) tcp.uncork();
    if (this.readyState === WebSocket.OPEN) this.checkBacklog();
  }

  private get tcp(): Socket | null | undefined {
    return (this as unknown as { _socket?: Socket | null })._socket;
  }

  private checkBacklog(): void {
    if (this.bufferedAmount > this.host.maxBufferedBytes) this.shed();
  }

  private shed(): void {
    this.host.stats.slowConsumers++;
    if (this.tcp?.writableNeedDrain) {
      this.terminate();
      return;
    }
    this.close(CloseCode.TryAgainLater, CloseReason.SlowConsumer);
    setTimeout(() => this.terminate(), this.host.slowConsumerGraceMs).unref();
  }
}
