import type { FieldError } from './protocol.js';

/**
 * Why a request failed: `code` says who decided. `server` carries the server's `message` (and
 * `errors` for Validation failed); `timeout`, `disconnected` (the socket dropped before the
 * reply: the request may or may not have been handled), `queue-full` and `closed` are the
 * client's own.
 */
export type ErrorCode = 'server' | 'timeout' | 'disconnected' | 'queue-full' | 'closed';

export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

/** How a connection ended, when the client gives up on it (close codes it does not retry). */
export class SwitchboardCloseError extends Error {
  override readonly name = 'SwitchboardCloseError';

  constructor(
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super(`Connection closed (${closeCode}${reason ? ` ${reason}` : ''})`);
  }
}
