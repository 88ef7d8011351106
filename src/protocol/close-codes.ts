/**
 * The WebSocket close codes a client of this server may see, in one place. Switchboard sends
 * 1001, 1003, 1008, 1011 and 1013 itself; ws sends 1002 (protocol error), 1007 (invalid UTF-8)
 * and 1009 (frame over MAX_MESSAGE_BYTES, empty reason) on our behalf; a client sees 1006 when a
 * socket is terminated without a close frame (missed heartbeat, shutdown straggler).
 *
 * Each entry says whether a client should reconnect after receiving it. Codes 1000–1015 are defined
 * by RFC 6455 and the IANA registry; the server uses no private (4000–4999) codes.
 */
export const CloseCode = {
  /** The server is going away (shutdown or restart). Reconnect with backoff. */
  GoingAway: 1001,
  /** Binary frame on a text endpoint. Do not reconnect without fixing the client. */
  UnsupportedData: 1003,
  /**
   * Policy violation: an invalid id or channel, a missing, invalid or expired token, or a token
   * whose subject does not match. Do not reconnect with the same URL or token.
   */
  PolicyViolation: 1008,
  /** A frame larger than MAX_MESSAGE_BYTES. Do not resend the same message. */
  MessageTooBig: 1009,
  /** Unexpected server error. Reconnect with backoff. */
  InternalError: 1011,
  /** Try again later (the server shed this connection under load). Reconnect with backoff. */
  TryAgainLater: 1013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * The close codes metrics count apart: the server's own (above), those ws sends for it (1002,
 * 1007), and those that say how a peer left (1000 normal, 1005 no status, 1006 no close frame).
 * Any other code a client sends is counted as `other`, so clients cannot mint label values.
 */
export const OBSERVED_CLOSE_CODES: ReadonlySet<number> = new Set([
  ...Object.values(CloseCode),
  1000,
  1002,
  1005,
  1006,
  1007,
]);

/** Close reasons are part of the contract; RFC 6455 caps them at 123 bytes. */
export const CloseReason = {
  BinaryNotSupported: 'Binary frames are not supported',
  ServerShuttingDown: 'Server shutting down',
  TokenMissing: 'Token missing',
  TokenInvalid: 'Token invalid',
  TokenExpired: 'Token expired',
  ClientIdMismatch: 'Client id does not match token subject',
  SlowConsumer: 'Slow consumer',
  /** POST /api/disconnect closed every socket of the user (1008). */
  DisconnectedByServer: 'Disconnected by server',
  invalidParam: (name: string) => `Invalid ${name}`,
} as const;
