import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InjectThrottlerOptions, type ThrottlerModuleOptions } from '@nestjs/throttler';
import {
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
} from '@nestjs/websockets/constants';
import { Clock } from '../common/clock';
import { ConnectionRegistry } from '../connections/connection-registry';
import type { EndpointDefinition } from '../protocol/endpoints';
import type { Peer } from '../transport/socket/peer';
import {
  messageThrottlerOf,
  resolveEndpointPolicies,
  type EndpointPolicies,
  type GatewayTargets,
  type MessagePolicy,
} from './message-throttle-policy';
import { RateLimiter } from './rate-limiter';

/** The counters of one endpoint: undefined / null where nothing is counted. */
interface EndpointLimiters {
  readonly frames?: RateLimiter<Peer>;
  /** Only for /ws/json handlers that declare their own @Throttle / @SkipThrottle. */
  readonly handlers?: ReadonlyMap<string, RateLimiter<Peer> | null>;
}

/**
 * The WebSocket message limits, declared the @nestjs/throttler way: ThrottlerModule's `default`
 * throttler (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS) for every gateway, changed per gateway or
 * handler by `@Throttle({ default: { limit, ttl } })` and `@SkipThrottle()`.
 *
 * The decorators are read once at boot (see resolveEndpointPolicies); per message there is no
 * reflection, only O(1) counters keyed by connection. The transport calls `allowFrame` for every
 * frame before decoding it and, on /ws/json, `allowHandler` once the frame is routed by `type`.
 * A connection's records are freed when it closes.
 *
 * Counting is per connection and per instance, not in the ThrottlerStorage: a connection lives
 * on one instance, and a storage round trip per frame would cost more than the frame.
 */
@Injectable()
export class MessageThrottles implements OnModuleInit {
  private readonly log = new Logger(MessageThrottles.name);
  private readonly byEndpoint = new Map<EndpointDefinition, EndpointLimiters>();
  /** Endpoints without a decorator share the module's limit (one record per connection). */
  private shared?: RateLimiter<Peer>;

  constructor(
    private readonly discovery: DiscoveryService,
    @InjectThrottlerOptions() private readonly options: ThrottlerModuleOptions,
    private readonly clock: Clock,
    connections: ConnectionRegistry,
  ) {
    connections.onRemove((connection) => this.release(connection));
  }

  onModuleInit(): void {
    const fallback = messageThrottlerOf(this.options);
    this.shared = new RateLimiter(fallback.limit, fallback.ttl, this.clock);
    for (const [endpoint, targets] of discoverGateways(this.discovery)) {
      const policies = resolveEndpointPolicies(targets, fallback);
      this.byEndpoint.set(endpoint, this.limitersFor(policies, fallback));
      this.log.debug(`${endpoint.path}: ${describe(policies)}`);
    }
  }

  /** Counts one frame (a ping included) of `connection`; false when it is over its endpoint's limit. */
  allowFrame(connection: Peer): boolean {
    const limiters = this.byEndpoint.get(connection.endpoint);
    if (limiters === undefined) return this.shared!.allow(connection);
    return limiters.frames === undefined || limiters.frames.allow(connection);
  }

  /**
   * For a frame `allowFrame` let through and routed to `message`: when that handler declares
   * its own limit, the frame leaves the endpoint's budget and is counted against the handler's
   * (per connection); false when that one is exhausted.
   */
  allowHandler(connection: Peer, message: string): boolean {
    const handlers = this.byEndpoint.get(connection.endpoint)?.handlers;
    if (handlers === undefined) return true;
    const own = handlers.get(message);
    if (own === undefined) return true;
    this.frameLimiter(connection)?.refund(connection);
    return own === null || own.allow(connection);
  }

  /** Records currently held, across every counter (leak tests read it). */
  get size(): number {
    let size = this.shared?.size ?? 0;
    for (const { frames, handlers } of this.byEndpoint.values()) {
      size += frames === this.shared ? 0 : (frames?.size ?? 0);
      for (const limiter of handlers?.values() ?? []) size += limiter?.size ?? 0;
    }
    return size;
  }

  private frameLimiter(connection: Peer): RateLimiter<Peer> | undefined {
    const limiters = this.byEndpoint.get(connection.endpoint);
    return limiters === undefined ? this.shared : limiters.frames;
  }

  private release(connection: Peer): void {
    this.frameLimiter(connection)?.release(connection);
    const handlers = this.byEndpoint.get(connection.endpoint)?.handlers;
    for (const limiter of handlers?.values() ?? []) limiter?.release(connection);
  }

  private limitersFor(
    policies: EndpointPolicies,
    fallback: { limit: number; ttl: number },
  ): EndpointLimiters {
    const limiter = (policy: MessagePolicy) => {
      if (policy === null) return null;
      if (policy.limit === fallback.limit && policy.ttl === fallback.ttl) return this.shared!;
      return new RateLimiter<Peer>(policy.limit, policy.ttl, this.clock);
    };
    const handlers = new Map<string, RateLimiter<Peer> | null>();
    for (const [message, policy] of policies.handlers) {
      // A handler's budget is its own even when its numbers equal the module's.
      handlers.set(message, policy && new RateLimiter<Peer>(policy.limit, policy.ttl, this.clock));
    }
    return {
      frames: limiter(policies.frames) ?? undefined,
      handlers: handlers.size > 0 ? handlers : undefined,
    };
  }
}

/** Every endpoint gateway, with the class and handlers its decorators sit on. */
function discoverGateways(discovery: DiscoveryService): Map<EndpointDefinition, GatewayTargets> {
  const scanner = new MetadataScanner();
  const found = new Map<EndpointDefinition, GatewayTargets>();
  for (const wrapper of discovery.getProviders()) {
    const { metatype, instance } = wrapper as { metatype?: unknown; instance?: unknown };
    if (typeof metatype !== 'function' || !instance) continue;
    const options = Reflect.getMetadata(GATEWAY_OPTIONS, metatype) as
      { endpoint?: EndpointDefinition } | undefined;
    const endpoint = options?.endpoint;
    if (!endpoint) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, object>;
    const handlers = new Map<string, object & { name: string }>();
    for (const name of scanner.getAllMethodNames(prototype)) {
      const method = prototype[name] as object & { name: string };
      if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method)) continue;
      handlers.set(Reflect.getMetadata(MESSAGE_METADATA, method) as string, method);
    }
    found.set(endpoint, {
      gateway: metatype,
      format: endpoint.format,
      handlers,
    });
  }
  return found;
}

function describe({ frames, handlers }: EndpointPolicies): string {
  const text = (policy: MessagePolicy) =>
    policy === null ? 'not limited' : `${policy.limit} per ${policy.ttl} ms`;
  const own = [...handlers].map(([message, policy]) => `, "${message}" ${text(policy)}`);
  return `messages ${text(frames)} per connection${own.join('')}`;
}
