import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../../bus/bus';
import { ErrorMessages } from '../../protocol/text-messages';

/** What a WsException may carry to the client: a message and, for validation, the details. */
export interface ClientErrorBody {
  readonly message: string;
  readonly errors?: JsonValue[];
}

/** An error meant for the client, on its way from a gateway back to the transport. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly errors?: JsonValue[],
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * Turns whatever a gateway throws into a ClientError and hands it back to the transport, which
 * sends it in the endpoint's error shape in request order (see replies.ts). Nest's stock filter
 * would call `client.emit`, which a `ws` socket never transmits, and sending from here directly
 * would let an error overtake replies to earlier messages still in flight.
 *
 * Handing back works by rethrowing: Nest's WsProxy lets an exception raised by a filter reject
 * the handler's promise, which the transport awaits anyway.
 *
 * A WsException's message is for the client; any other error is logged and the client gets a
 * generic "Internal server error" without internals. The connection stays open either way.
 */
@Catch()
export class WsErrorFilter implements ExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): never {
    throw toClientError(exception);
  }
}

const logger = new Logger(WsErrorFilter.name);

/**
 * What the client is told about an exception: a WsException's message (and validation details),
 * a ClientError as it is, anything else logged here and reported as "Internal server error".
 */
export function toClientError(exception: unknown): ClientError {
  if (exception instanceof ClientError) return exception;
  if (exception instanceof WsException) {
    const error = exception.getError();
    if (typeof error === 'string') return new ClientError(error);
    const { message, errors } = error as ClientErrorBody;
    return new ClientError(message, errors);
  }
  logger.error('Unhandled error in a gateway', exception as Error);
  return new ClientError(ErrorMessages.internal);
}
