import { IncomingMessage } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';

/**
 * The upgrade request of the connection a guard is deciding on, when the guard runs once per
 * connection (declared on the gateway class); undefined when it runs for a message (declared on a
 * handler), where `switchToWs().getData()` is the message instead.
 *
 * In a class guard, `context.switchToWs().getClient()` is the Connection (its endpoint, path
 * params and, once authenticated, principal) and `getData()` is this IncomingMessage.
 */
export function upgradeRequestOf(context: ExecutionContext): IncomingMessage | undefined {
  const data: unknown = context.switchToWs().getData();
  return data instanceof IncomingMessage ? data : undefined;
}
