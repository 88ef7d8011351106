import { isObservable, type Observable } from 'rxjs';
import type { JsonValue } from '../../bus/bus';
import { jsonError, type RequestId } from '../../protocol/json-messages';
import type { FrameFormat } from '../../protocol/endpoints';
import type { TextError } from '../../protocol/text-messages';
import type { Connection } from '../socket/connection';
import type { Peer } from '../socket/peer';
import { toClientError } from './ws-error.filter';

/**
 * Sends a handler's result as stock Nest does: a value now; a promise's value once it settles
 * (Nest wraps every handler in an async function); every value an observable emits, in order,
 * until it completes (a promise of an observable is both). Returns the promise the caller must
 * wait for before handling the connection's next message, or undefined when the replies are
 * already sent (a value, an observable that completed synchronously).
 *
 * A rejection or an observable's error is answered with an error in the endpoint's shape (see
 * WsErrorFilter). An observable still running when the socket closes is unsubscribed.
 */
export function settleReply(
  connection: Connection,
  result: unknown,
  id?: RequestId,
): Promise<void> | undefined {
  if (result instanceof Promise) {
    return result.then(
      (value) => settleReply(connection, value, id),
      (error: unknown) => sendReply(connection, errorReplyFor(connection, error), id),
    );
  }
  if (typeof result === 'object' && result !== null && isObservable(result)) {
    return streamReplies(connection, result, id);
  }
  sendReply(connection, result, id);
  return undefined;
}

function streamReplies(
  connection: Connection,
  source: Observable<unknown>,
  id: RequestId | undefined,
): Promise<void> | undefined {
  let done = false;
  let settle: (() => void) | undefined;
  const finish = () => {
    done = true;
    connection.off('close', onClose);
    settle?.();
  };
  const onClose = () => {
    subscription.unsubscribe();
    finish();
  };
  const subscription = source.subscribe({
    next: (value) => sendReply(connection, value, id),
    error: (error: unknown) => {
      sendReply(connection, errorReplyFor(connection, error), id);
      finish();
    },
    complete: finish,
  });
  if (done) return undefined;
  connection.on('close', onClose);
  return new Promise((resolve) => (settle = resolve));
}

/**
 * `undefined` and `null` send nothing; a string is sent as a text frame as is; anything else as
 * JSON, with `id` added when the request had one and the reply does not carry its own.
 */
export function sendReply(connection: Peer, value: unknown, id?: RequestId): void {
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
export function errorReplyFor(connection: Peer, error: unknown): unknown {
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
