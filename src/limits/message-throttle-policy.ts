import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import type { FrameFormat } from '../protocol/endpoints';

/**
 * The throttler that limits WebSocket messages (per connection) and HTTP requests (per client IP
 * and route): Nest's default name, so `@Throttle({ default: { limit, ttl } })` and a bare
 * `@SkipThrottle()` address it, on gateways as on controllers.
 */
export const MESSAGE_THROTTLER = 'default';

/** At most `limit` messages per `ttl` milliseconds, the window starting at the first of them. */
export interface MessageLimit {
  readonly limit: number;
  readonly ttl: number;
}

/** A limit, or null where `@SkipThrottle()` turned it off. */
export type MessagePolicy = MessageLimit | null;

/** What the resolution reads of one gateway: its class and its message handlers. */
export interface GatewayTargets {
  readonly gateway: object & { readonly name: string };
  readonly format: FrameFormat;
  /** Each @SubscribeMessage method (the function, which carries its decorators) by message. */
  readonly handlers: ReadonlyMap<string, object & { readonly name: string }>;
}

/** The limits of one endpoint, resolved once at boot. */
export interface EndpointPolicies {
  /** Counted for every frame (pings included) before it is decoded. */
  readonly frames: MessagePolicy;
  /**
   * /ws/json handlers with a decorator of their own, by message type: their messages leave the
   * endpoint's budget once routed, and count against this policy instead.
   */
  readonly handlers: ReadonlyMap<string, MessagePolicy>;
}

/**
 * Resolves @Throttle / @SkipThrottle for one gateway as ThrottlerGuard does for a route (the
 * handler's value wins over the class's, the module's throttler is the fallback; a skip wins
 * over a limit), with one difference forced by where the check runs: frames are counted before
 * they are decoded, so
 * - on a text endpoint, which routes every frame to its one handler, that handler's decorators
 *   are the endpoint's;
 * - on /ws/json the class decides the endpoint's budget, and a handler that declares its own
 *   gets its own budget, applied once the frame is routed by `type`.
 * Fails at boot, naming the gateway, on what a message limit cannot honour: a limit or ttl
 * computed from an ExecutionContext, a block duration, a tracker or a key generator.
 */
export function resolveEndpointPolicies(
  targets: GatewayTargets,
  fallback: MessageLimit,
): EndpointPolicies {
  const { gateway, format, handlers } = targets;
  const ownPolicies = new Map<string, MessagePolicy>();
  if (format === 'text') {
    const [handler] = handlers.values();
    const chain = handler ? [handler, gateway] : [gateway];
    return { frames: policyOf(chain, fallback, gateway.name), handlers: ownPolicies };
  }
  for (const [message, handler] of handlers) {
    if (!declaresThrottle(handler)) continue;
    const where = `${gateway.name}.${handler.name}`;
    ownPolicies.set(message, policyOf([handler, gateway], fallback, where));
  }
  return { frames: policyOf([gateway], fallback, gateway.name), handlers: ownPolicies };
}

/** The module's `default` throttler, which gateways without a decorator are limited by. */
export function messageThrottlerOf(options: ThrottlerModuleOptions): MessageLimit {
  const throttlers = Array.isArray(options) ? options : options.throttlers;
  const throttler = throttlers.find(({ name }) => (name ?? 'default') === MESSAGE_THROTTLER);
  if (!throttler) {
    throw new Error(
      `ThrottlerModule has no "${MESSAGE_THROTTLER}" throttler for WebSocket messages`,
    );
  }
  const where = `ThrottlerModule's "${MESSAGE_THROTTLER}" throttler`;
  return { limit: count(throttler.limit, 'limit', where), ttl: count(throttler.ttl, 'ttl', where) };
}

function declaresThrottle(target: object): boolean {
  return (
    own(target, THROTTLER_SKIP) !== undefined ||
    own(target, THROTTLER_LIMIT) !== undefined ||
    own(target, THROTTLER_TTL) !== undefined
  );
}

function policyOf(chain: readonly object[], fallback: MessageLimit, where: string): MessagePolicy {
  for (const key of [THROTTLER_BLOCK_DURATION, THROTTLER_TRACKER, THROTTLER_KEY_GENERATOR]) {
    if (chain.some((target) => own(target, key) !== undefined)) {
      throw new Error(
        `@Throttle on ${where}: blockDuration, getTracker and generateKey are not supported on ` +
          'gateways (a message limit is tracked per connection and blocks for the rest of its window)',
      );
    }
  }
  if (first(chain, THROTTLER_SKIP) === true) return null;
  return {
    limit: count(first(chain, THROTTLER_LIMIT) ?? fallback.limit, 'limit', `@Throttle on ${where}`),
    ttl: count(first(chain, THROTTLER_TTL) ?? fallback.ttl, 'ttl', `@Throttle on ${where}`),
  };
}

/** Reflector.getAllAndOverride: the first value defined along the chain. */
function first(chain: readonly object[], key: string): unknown {
  for (const target of chain) {
    const value = own(target, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

function own(target: object, key: string): unknown {
  return Reflect.getMetadata(key + MESSAGE_THROTTLER, target);
}

function count(value: unknown, option: string, where: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new Error(
    `${where}: ${option} must be a whole number of at least 1 for WebSocket messages (it is ` +
      `resolved once at boot, before any ExecutionContext exists), got ${String(value)}`,
  );
}
