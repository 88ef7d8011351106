/**
 * The exact texts of the text endpoints (/ws, /ws/{client_id}, /ws/room/{room_id},
 * /ws/subscribe/{channel}). The strings are part of the wire contract.
 */
export const TextMessages = {
  echo: (text: string) => `Echo: ${text}`,
  chatLine: (clientId: string, text: string) => `Client ${clientId}: ${text}`,
  chatLeft: (clientId: string) => `Client ${clientId} left`,
  secureGreeting: (name: string, text: string) => `Hello ${name}: ${text}`,
} as const;

/** The error shape on text endpoints: one JSON object with an `error` string. */
export interface TextError {
  readonly error: string;
}

export const ErrorMessages = {
  rateLimited: 'Rate limit exceeded',
  internal: 'Internal server error',
  /**
   * A channel publish (text or JSON), or a subscribe with history, that could not reach the
   * history (HISTORY_SIZE > 0): nothing was delivered.
   */
  busUnavailable: 'Bus unavailable',
} as const;
