import { Logger } from '@nestjs/common';
import type { JsonValue } from '../bus/bus';
import { jsonError, type RequestId } from '../protocol/json-messages';
import type { FrameFormat } from '../protocol/endpoints';
import type { TextError } from '../protocol/text-messages';
import type { Connection } from './connection';

const logger = new Logger('Replies');

/**
 * Sends a handler's result to its connection, keeping request order.
 *
 * Results may be values or promises (Nest wraps every handler in an async function, and pipes
 * such as validation may take a different number of ticks per message type), so replies are
 * chained per connection: a reply never overtakes the reply to an earlier message. `undefined`
 * and `null` send nothing; a string is sent as a text frame as is; anything else as JSON.
 */
export function replyInOrder(connection: Connection, result: unknown): void {
  const previous = connection.replyTail;
  if (!(result instanceof Promise) && previous === undefined) {
    sendReply(connection, result);
    return;
  }
  const tail: Promise<void> = (previous ? previous.then(() => result) : Promise.resolve(result))
    .then(
      (value) => sendReply(connection, value),
      (error: unknown) => logger.error(`Reply on ${connection.id} failed`, error as Error),
    )
    .finally(() => {
      if (connection.replyTail === tail) connection.replyTail = undefined;
    });
  connection.replyTail = tail;
}

export function sendReply(connection: Connection, value: unknown): void {
  if (value === undefined || value === null || !connection.isOpen) return;
  connection.send(typeof value === 'string' ? value : JSON.stringify(value));
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
