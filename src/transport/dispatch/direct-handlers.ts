import type { Type } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import type { Connection } from '../socket/connection';

/** A gateway method called straight from the dispatcher, without Nest's per-message wrapper. */
export type DirectHandler = (connection: Connection, data: unknown) => unknown;

const SOCKET = 0; // WsParamtype.SOCKET
const PAYLOAD = 3; // WsParamtype.PAYLOAD

interface RouteArg {
  readonly index: number;
  readonly data?: string;
  readonly pipes?: readonly unknown[];
}

/**
 * A plain function for a gateway handler that Nest's per-message wrapper would add nothing to,
 * or undefined when the handler needs the wrapper.
 *
 * Nest wraps every @SubscribeMessage handler in an async context (guards, interceptors, pipes,
 * filters, parameter resolution), which costs several promises per message even when the
 * handler declares none of them. A handler qualifies for a direct call when it has no method
 * guards, no interceptors, pipes or exception filters (on the method, the class or a parameter),
 * and only @ConnectedSocket / @MessageBody parameters. Guards on the class do not count: they run
 * once per connection, never per message (see guard-scopes.ts). Global enhancers do not reach
 * gateways (stock Nest), so they do not count either.
 *
 * The transport reproduces the rest of the wrapper for a direct handler (see replies.ts): a
 * value, a promise or an observable is sent the same way, and an error reaches the client as
 * WsErrorFilter would send it, so both paths put the same bytes on the wire.
 */
export function directHandlerFor(
  instance: object,
  metatype: Type,
  methodName: string,
  method: (...args: unknown[]) => unknown,
): DirectHandler | undefined {
  for (const key of [INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA]) {
    if (!isEmpty(Reflect.getMetadata(key, metatype))) return undefined;
  }
  for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA]) {
    if (!isEmpty(Reflect.getMetadata(key, method))) return undefined;
  }
  if (!isEmpty(Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, method))) return undefined;
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodName) as
    Record<string, RouteArg> | undefined;
  if (args === undefined) {
    // Nest's default for a handler without parameter decorators: (socket, payload).
    return (connection, data) => method.call(instance, connection, data);
  }
  const params: { index: number; socket: boolean; property?: string }[] = [];
  for (const [key, arg] of Object.entries(args)) {
    const type = Number(key.split(':')[0]);
    if ((type !== SOCKET && type !== PAYLOAD) || !isEmpty(arg.pipes)) return undefined;
    params.push({ index: arg.index, socket: type === SOCKET, property: arg.data });
  }
  const arity = Math.max(-1, ...params.map((p) => p.index)) + 1;
  return (connection, data) => {
    const values: unknown[] = new Array(arity);
    for (const { index, socket, property } of params) {
      values[index] = socket
        ? connection
        : property === undefined
          ? data
          : (data as Record<string, unknown> | null | undefined)?.[property];
    }
    return method.apply(instance, values);
  };
}

function isEmpty(value: unknown): boolean {
  return value === undefined || (Array.isArray(value) && value.length === 0);
}
