import WebSocket from 'ws';
import type { EndpointDefinition } from '../protocol/endpoints';

/** A message handler as the transport calls it: Nest's wrapped gateway method bound to the socket. */
export type BoundHandler = (data: unknown, event: string) => unknown;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const NO_HANDLERS: ReadonlyMap<string, BoundHandler> = new Map();

/**
 * A server-side WebSocket with the transport's per-connection state. The ws server instantiates
 * this class for every accepted socket (its `WebSocket` option), so the state lives on the socket
 * itself: no side maps to look up per message and nothing to forget on close.
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
  /** Set by the transport once the gateway has seen the connection. */
  handlers: ReadonlyMap<string, BoundHandler> = NO_HANDLERS;
  /** Tail of this connection's pending replies, so asynchronous replies keep request order. */
  replyTail: Promise<void> | undefined = undefined;

  get isOpen(): boolean {
    return this.readyState === WebSocket.OPEN;
  }
}
