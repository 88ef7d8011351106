import type { IncomingMessage } from 'node:http';
import { type CanActivate, HttpException, type Type } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { WsException } from '@nestjs/websockets';
import type { Connection } from '../socket/connection';
import { ConnectionGuard, type GuardVerdict, type Refusal } from './connection-guard';
import { settleGuard } from '../dispatch/enhanced-handler';

/**
 * The reason when a guard answers false. Switchboard's own guards always throw with a reason of
 * the contract (CloseReason), so only application guards can give this one.
 */
const FORBIDDEN_REASON = 'Forbidden';

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

/** Stands in for the handler in a per-connection ExecutionContext: it carries no metadata. */
function onConnection(): void {}

/**
 * Runs the guards declared on a gateway class (`@UseGuards` on the class) once per connection,
 * with the semantics of Nest's GuardsConsumer: in order, the first that does not allow stops
 * the chain; a guard may answer a boolean, a promise or an observable (its last value).
 *
 * The ExecutionContext is of type 'ws': `switchToWs().getClient()` is the Connection,
 * `getData()` the upgrade request (see upgradeRequestOf), `getClass()` the gateway.
 *
 * The refusal closes the socket with 1008 and a reason: the message of a WsException or an
 * HttpException (UnauthorizedException…) the guard threw, cut to 123 bytes; "Forbidden" when it
 * answered false. Any other error is the server's: the socket is closed with 1011 and the error
 * logged (see SwitchboardWsAdapter.admit). Synchronous guards cost no promise.
 */
export class GatewayConnectionGuard extends ConnectionGuard {
  constructor(
    private readonly guards: readonly CanActivate[],
    private readonly gateway: Type,
  ) {
    super();
  }

  check(connection: Connection, request: IncomingMessage): GuardVerdict | Promise<GuardVerdict> {
    const context = new ExecutionContextHost([connection, request], this.gateway, onConnection);
    context.setType('ws');
    return this.from(context, 0);
  }

  private from(context: ExecutionContextHost, index: number): GuardVerdict | Promise<GuardVerdict> {
    const { guards } = this;
    for (let i = index; i < guards.length; i++) {
      let result: ReturnType<CanActivate['canActivate']>;
      try {
        result = guards[i].canActivate(context);
      } catch (error) {
        return refusalFor(error);
      }
      if (typeof result === 'boolean') {
        if (!result) return FORBIDDEN;
        continue;
      }
      return settleGuard(result).then(
        (allowed) => (allowed ? this.from(context, i + 1) : FORBIDDEN),
        refusalFor,
      );
    }
    return true;
  }
}

const FORBIDDEN: Refusal = { reason: FORBIDDEN_REASON };

/**
 * The refusal for what a guard threw: a client-facing exception becomes a 1008 reason; anything
 * else is rethrown (as a rejection, so the adapter's error path closes with 1011 and logs it).
 */
function refusalFor(error: unknown): Refusal | Promise<never> {
  let message: string | undefined;
  if (error instanceof WsException) {
    const body = error.getError();
    message = typeof body === 'string' ? body : (body as { message?: string }).message;
  } else if (error instanceof HttpException) {
    message = error.message;
  } else {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return { reason: capReason(message || FORBIDDEN_REASON) };
}

/** Cuts a reason to 123 bytes of UTF-8 without splitting a character. */
export function capReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let cut = '';
  for (const char of reason) {
    if (Buffer.byteLength(cut + char) > MAX_REASON_BYTES) break;
    cut += char;
  }
  return cut;
}
