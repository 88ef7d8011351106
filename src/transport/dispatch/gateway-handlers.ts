import { type INestApplicationContext, Logger, type Type } from '@nestjs/common';
import { type NestContainer, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer';
import { ContextUtils } from '@nestjs/core/helpers/context-utils';
import { InterceptorsConsumer, InterceptorsContextCreator } from '@nestjs/core/interceptors';
import { PipesConsumer, PipesContextCreator } from '@nestjs/core/pipes';
import { GATEWAY_OPTIONS } from '@nestjs/websockets/constants';
import { WsContextCreator } from '@nestjs/websockets/context/ws-context-creator';
import { WsProxy } from '@nestjs/websockets/context/ws-proxy';
import { GatewayMetadataExplorer } from '@nestjs/websockets/gateway-metadata-explorer';
import type { EndpointDefinition } from '../../protocol/endpoints';
import type { Connection } from '../socket/connection';
import { directHandlerFor } from './direct-handlers';
import { EndpointExceptionFiltersContext } from './endpoint-exception-filters';
import { enhancedHandler } from './enhanced-handler';
import type { EndpointGatewayOptions } from '../endpoint-gateway.decorator';
import { GatewayConnectionGuard } from '../upgrade/gateway-connection-guard';
import {
  ConnectionGuardsContextCreator,
  MessageGuardsContextCreator,
} from '../upgrade/guard-scopes';

/**
 * A message handler as the dispatcher calls it. It returns the handler's result (a value, a
 * promise or an observable, see replies.ts); a direct handler may also throw.
 */
export type MessageHandler = (connection: Connection, data: unknown, event: string) => unknown;

/** What the transport runs for one gateway: its class guards per connection, its handlers. */
export interface GatewayHandlers {
  readonly gateway: Type;
  /** The guards declared on the gateway class; undefined when there are none. */
  readonly connectionGuard?: GatewayConnectionGuard;
  /** By message (TEXT_EVENT on text endpoints, the envelope type on JSON); shared by every socket. */
  readonly messages: ReadonlyMap<string, MessageHandler>;
  /** The message names called directly (see direct-handlers.ts); the others go through Nest. */
  readonly direct: ReadonlySet<string>;
}

export type EndpointHandlers = ReadonlyMap<EndpointDefinition, GatewayHandlers>;

/**
 * Builds, once at boot, what the transport runs for every @EndpointGateway: the handlers without
 * enhancers as plain calls (the direct path), every other handler with the enhancers Nest's own
 * context creators resolve for it (pipes, method guards, interceptors, exception filters), run as
 * stock Nest runs them (see enhanced-handler.ts), and the class guards as a per-connection check. Which path each handler takes is
 * logged at debug level.
 *
 * Nest still binds its own wrapped callbacks to every socket (SwitchboardWsAdapter ignores them):
 * they would run the class guards again on every message.
 */
export function buildGatewayHandlers(app: INestApplicationContext): EndpointHandlers {
  const log = new Logger('GatewayHandlers');
  const modules = app.get(ModulesContainer, { strict: false });
  // The context creators look modules up through the container; ModulesContainer is its map.
  const container = { getModules: () => modules } as unknown as NestContainer;
  const filters = new EndpointExceptionFiltersContext(container);
  const pipes = new PipesContextCreator(container);
  const guards = new MessageGuardsContextCreator(container);
  const interceptors = new InterceptorsContextCreator(container);
  // Used for the parameter metadata only: the handler runs in enhancedHandler.
  const messageContext = new WsContextCreator(
    new WsProxy(),
    filters,
    pipes,
    new PipesConsumer(),
    guards,
    new GuardsConsumer(),
    interceptors,
    new InterceptorsConsumer(),
  );
  const contextUtils = new ContextUtils();
  const connectionGuards = new ConnectionGuardsContextCreator(container);
  const explorer = new GatewayMetadataExplorer(new MetadataScanner());

  const found = new Map<EndpointDefinition, GatewayHandlers>();
  for (const [moduleKey, module] of modules) {
    for (const wrapper of module.providers.values()) {
      const instance = wrapper.instance as object | undefined;
      const gateway = wrapper.metatype as Type | undefined;
      if (!instance || !gateway || wrapper.isNotMetatype) continue;
      const options = Reflect.getMetadata(GATEWAY_OPTIONS, gateway) as
        Partial<EndpointGatewayOptions> | undefined;
      const endpoint = options?.endpoint;
      if (!endpoint) continue;

      const messages = new Map<string, MessageHandler>();
      const direct = new Set<string>();
      for (const { message, methodName, callback } of explorer.explore(instance)) {
        const name = message as string;
        const method = callback as (...args: unknown[]) => unknown;
        const plain = directHandlerFor(instance, gateway, methodName, method);
        if (plain) {
          messages.set(name, plain);
          direct.add(name);
          continue;
        }
        const metadata = messageContext.getMetadata(instance, methodName, 'ws');
        const params = metadata.getParamsMetadata(moduleKey);
        messages.set(
          name,
          enhancedHandler({
            instance,
            callback: method,
            pattern: name,
            argsLength: metadata.argsLength,
            params: contextUtils.mergeParamsMetatypes(params, metadata.paramtypes),
            exceptions: filters.create(instance, method, moduleKey),
            pipes: pipes.create(instance, method, moduleKey),
            guards: guards.create(instance, method, moduleKey),
            interceptors: interceptors.create(instance, method, moduleKey),
          }),
        );
      }
      const classGuards = connectionGuards.create(instance, noHandler, moduleKey);
      found.set(endpoint, {
        gateway,
        connectionGuard:
          classGuards.length > 0 ? new GatewayConnectionGuard(classGuards, gateway) : undefined,
        messages,
        direct,
      });
      log.debug(describe(gateway, endpoint, classGuards.length, messages, direct));
    }
  }
  return found;
}

function noHandler(): void {}

function describe(
  gateway: Type,
  endpoint: EndpointDefinition,
  connectionGuards: number,
  messages: ReadonlyMap<string, MessageHandler>,
  direct: ReadonlySet<string>,
): string {
  const names = [...messages.keys()];
  const list = (values: string[]) => (values.length > 0 ? values.join(', ') : '-');
  return (
    `${gateway.name} (${endpoint.path}): ${connectionGuards} connection guard(s); ` +
    `direct: ${list(names.filter((name) => direct.has(name)))}; ` +
    `through Nest's enhancers: ${list(names.filter((name) => !direct.has(name)))}`
  );
}
