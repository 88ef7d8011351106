import type { INestApplicationContext, Type } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import {
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
} from '@nestjs/websockets/constants';
import type { EndpointName } from '../protocol/endpoints';
import type { Connection } from './connection';
import type { EndpointGatewayOptions } from './endpoint-gateway.decorator';
import { WsErrorFilter } from './ws-error.filter';

/** A gateway method called straight from the dispatcher, without Nest's per-message wrapper. */
export type DirectHandler = (connection: Connection, data: unknown) => unknown;

/** Per endpoint, the message handlers that can be called directly. */
export type DirectHandlers = ReadonlyMap<EndpointName, ReadonlyMap<string, DirectHandler>>;

const SOCKET = 0; // WsParamtype.SOCKET
const PAYLOAD = 3; // WsParamtype.PAYLOAD

interface RouteArg {
  readonly index: number;
  readonly data?: string;
  readonly pipes?: readonly unknown[];
}

/**
 * Finds the gateway handlers that Nest's per-message wrapper adds nothing to, and builds a plain
 * function for each.
 *
 * Nest wraps every @SubscribeMessage handler in an async context (guards, interceptors, pipes,
 * filters, parameter resolution), which costs several promises per message even when the
 * handler declares none of them. A handler qualifies for a direct call when it has no guards,
 * interceptors or pipes (on the method, the class or a parameter), no filter besides the
 * WsErrorFilter every endpoint gateway carries, and only @ConnectedSocket / @MessageBody
 * parameters. The transport reproduces WsErrorFilter itself for those (see replies.ts), so the
 * behaviour on the wire is the same; the application registers no global enhancers, which this
 * relies on. Handlers that do declare a pipe (the JSON payload DTOs) keep Nest's wrapper.
 */
export function findDirectHandlers(app: INestApplicationContext): DirectHandlers {
  const scanner = new MetadataScanner();
  const found = new Map<EndpointName, Map<string, DirectHandler>>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const instance = wrapper.instance as object | undefined;
      const metatype = wrapper.metatype as Type | undefined;
      if (!instance || !metatype || !wrapper.isDependencyTreeStatic()) continue;
      const options = Reflect.getMetadata(GATEWAY_OPTIONS, metatype) as
        Partial<EndpointGatewayOptions> | undefined;
      const endpoint = options?.endpoint;
      if (!endpoint || !classQualifies(metatype)) continue;
      const handlers = new Map<string, DirectHandler>();
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of scanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName] as (...args: unknown[]) => unknown;
        if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method)) continue;
        const message = Reflect.getMetadata(MESSAGE_METADATA, method) as string;
        const handler = directHandler(instance, metatype, methodName, method);
        if (handler) handlers.set(message, handler);
      }
      if (handlers.size > 0) found.set(endpoint.name, handlers);
    }
  }
  return found;
}

function classQualifies(metatype: Type): boolean {
  const filters = (Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, metatype) ?? []) as unknown[];
  return (
    isEmpty(Reflect.getMetadata(GUARDS_METADATA, metatype)) &&
    isEmpty(Reflect.getMetadata(INTERCEPTORS_METADATA, metatype)) &&
    isEmpty(Reflect.getMetadata(PIPES_METADATA, metatype)) &&
    filters.every((filter) => filter === WsErrorFilter)
  );
}

function directHandler(
  instance: object,
  metatype: Type,
  methodName: string,
  method: (...args: unknown[]) => unknown,
): DirectHandler | undefined {
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
