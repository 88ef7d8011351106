import type { Principal } from '../../auth/principal';
import type { EndpointDefinition } from '../../protocol/endpoints';
import type { PreparedFrame } from './prepared-frame';

/**
 * What services and gateways see of a connected client: who it is, where it connected, and how
 * to write to it and close it. Connection (the ws subclass) implements it; code outside the
 * transport depends on this instead, so it cannot reach ws internals or the transport's
 * per-connection state, and its specs fake a peer in a few lines.
 *
 * `P` types the path parameters of the endpoint, e.g. `Peer<{ roomId: string }>`.
 */
export interface Peer<P extends Record<string, string> = Record<string, string>> {
  /** Unique across instances for the life of the process (instance id + sequence). */
  readonly id: string;
  readonly endpoint: EndpointDefinition;
  /** Percent-decoded path parameters, already checked against the id rule. */
  readonly params: Readonly<P>;
  /** Set when the connection presented a valid token (by the auth guard, or a refresh). */
  principal: Principal | undefined;
  readonly isOpen: boolean;
  /**
   * Queues a text frame without waiting; false when the socket is not open. A peer whose unsent
   * data passes MAX_BUFFERED_BYTES is shed with 1013 (see Connection).
   */
  sendText(data: string | Buffer): boolean;
  /** As sendText, for a frame prepared once for many peers (broadcasts, heartbeats). */
  sendFrame(frame: PreparedFrame): boolean;
  close(code?: number, reason?: string): void;
}

/** A peer as the heartbeat and shutdown see it: its liveness, a protocol ping, a hard stop. */
export interface LivePeer<
  P extends Record<string, string> = Record<string, string>,
> extends Peer<P> {
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive: boolean;
  ping(): void;
  /** Destroys the socket at once, without a close handshake. */
  terminate(): void;
}
