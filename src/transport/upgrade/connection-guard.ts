import type { IncomingMessage } from 'node:http';
import type { Connection } from '../socket/connection';

/** A refusal: the socket is closed with 1008 and this reason; the gateway never sees it. */
export interface Refusal {
  readonly reason: string;
}

export type GuardVerdict = true | Refusal;

/**
 * Decides whether an accepted socket may reach its gateway. Guards run in order once the
 * upgrade has succeeded (so a refused browser client can read the 1008 close code and reason,
 * which an HTTP 401 would hide) and before the socket has any message listener, so nothing a
 * refused client sends is ever handled.
 *
 * A guard may record what it learned on the connection (the principal, say). It may answer
 * asynchronously: the transport pauses the socket meanwhile, so frames wait in TCP buffers
 * instead of being handled or lost.
 */
export abstract class ConnectionGuard {
  abstract check(
    connection: Connection,
    request: IncomingMessage,
  ): GuardVerdict | Promise<GuardVerdict>;
}
