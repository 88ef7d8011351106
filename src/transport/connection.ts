import WebSocket from 'ws';
import type { Principal } from '../auth/principal';
import type { EndpointDefinition } from '../protocol/endpoints';

/** A message handler as the transport calls it: Nest's wrapped gateway method bound to the socket. */
export type BoundHandler = (data: unknown, event: string) => unknown;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const NO_HANDLERS: ReadonlyMap<string, BoundHandler> = new Map();

/**
 * A server-side WebSocket with the transport's per-connection state. The ws server instantiates
 * this class for every accepted socket (its `WebSocket` option), so the state lives on the socket
 * itself: no side maps to look up per message, and nothing to forget on close.
 *
 * `P` types the path parameters of the endpoint, e.g. `Connection<{ roomId: string }>`.
 */
export class Connection<
  P extends Record<string, string> = Record<string, string>,
> extends WebSocket {
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
  /** Set by the transport once the gateway has seen the connection. */
  handlers: ReadonlyMap<string, BoundHandler> = NO_HANDLERS;
  /** True while a handler for this connection has not settled; later frames wait in `backlog`. */
  inFlight = false;
  /** Frames that arrived while a handler was in flight, with their rate-limit verdicts. */
  readonly backlog: { readonly text: string; readonly allowed: boolean }[] = [];

  get isOpen(): boolean {
    return this.readyState === WebSocket.OPEN;
  }
}
