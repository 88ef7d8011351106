import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../bus/bus';
import { requestIdOf } from '../protocol/json-messages';
import { ErrorMessages } from '../protocol/text-messages';
import type { Connection } from './connection';
import { errorReply, replyInOrder } from './replies';

/** What a WsException may carry to the client: a message and, for validation, the details. */
export interface ClientError {
  readonly message: string;
  readonly errors?: JsonValue[];
}

/**
 * Sends a gateway's errors to the client with `send`, in the endpoint's error shape. Nest's stock
 * filter calls `client.emit`, which a `ws` socket never transmits, so errors would vanish.
 *
 * A WsException's message is shown to the client; any other error is logged and the client gets
 * a generic "Internal server error" without internals. The connection stays open either way.
 */
@Catch()
export class WsErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(WsErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const connection = ws.getClient<Connection>();
    const { message, errors } = this.toClientError(exception);
    const id = requestIdOf(ws.getData());
    replyInOrder(connection, errorReply(connection.endpoint.format, message, id, errors));
  }

  private toClientError(exception: unknown): ClientError {
    if (exception instanceof WsException) {
      const error = exception.getError();
      if (typeof error === 'string') return { message: error };
      return error as ClientError;
    }
    this.logger.error('Unhandled error in a gateway', exception as Error);
    return { message: ErrorMessages.internal };
  }
}
