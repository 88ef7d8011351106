import type { JsonValue } from '../bus/bus';
import { jsonError, type RequestId } from '../protocol/json-messages';
import type { FrameFormat } from '../protocol/endpoints';
import type { TextError } from '../protocol/text-messages';
import type { Connection } from './connection';
import { toClientError } from './ws-error.filter';

/**
 * Sends a handler's result: now for a value, on settlement for a promise (Nest wraps every
 * handler in an async function). Returns the promise the caller must wait for before handling
 * the connection's next message, or undefined when the reply is already sent.
 *
 * A rejection is answered with an error in the endpoint's shape (see WsErrorFilter).
 */
export function settleReply(
  connection: Connection,
  result: unknown,
  id?: RequestId,
): Promise<void> | undefined {
  if (!(result instanceof Promise)) {
    sendReply(connection, result, id);
    return undefined;
  }
  return result.then(
    (value) => sendReply(connection, value, id),
    (error: unknown) => sendReply(connection, errorReplyFor(connection, error), id),
  );
}

/**
 * `undefined` and `null` send nothing; a string is sent as a text frame as is; anything else as
 * JSON, with `id` added when the request had one and the reply does not carry its own.
 */
export function sendReply(connection: Connection, value: unknown, id?: RequestId): void {
  if (value === undefined || value === null || !connection.isOpen) return;
  if (typeof value === 'string') {
    connection.sendText(value);
    return;
  }
  const withId =
    id !== undefined && (value as { id?: unknown }).id === undefined ? { ...value, id } : value;
  connection.sendText(JSON.stringify(withId));
}

/** The error reply for whatever a handler threw or rejected with (see toClientError). */
export function errorReplyFor(connection: Connection, error: unknown): unknown {
  const { message, errors } = toClientError(error);
  return errorReply(connection.endpoint.format, message, undefined, errors);
}

/** The error shape of each wire format: `{"error": …}` on text endpoints, an envelope on JSON. */
export function errorReply(
  format: FrameFormat,
  message: string,
  id?: RequestId,
  errors?: JsonValue[],
): TextError | ReturnType<typeof jsonError> {
  return format === 'json' ? jsonError(message, id, errors) : { error: message };
}
