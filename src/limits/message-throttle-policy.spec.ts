import { SkipThrottle, Throttle } from '@nestjs/throttler';
import {
  messageThrottlerOf,
  resolveEndpointPolicies,
  type GatewayTargets,
} from './message-throttle-policy';

const MODULE = { limit: 10, ttl: 1000 };

/** The targets of a fake gateway class: its @SubscribeMessage methods by message. */
function targetsOf(
  gateway: new () => object,
  format: 'text' | 'json',
  messages: Record<string, string>,
): GatewayTargets {
  const prototype = gateway.prototype as Record<string, object & { name: string }>;
  const handlers = new Map(Object.entries(messages).map(([message, m]) => [message, prototype[m]]));
  return { gateway, format, handlers };
}

describe('resolveEndpointPolicies', () => {
  describe('text endpoints', () => {
    it('use the module throttler without a decorator', () => {
      class Plain {
        text(): void {}
      }
      const policies = resolveEndpointPolicies(targetsOf(Plain, 'text', { text: 'text' }), MODULE);
      expect(policies.frames).toEqual(MODULE);
      expect(policies.handlers.size).toBe(0);
    });

    it('take @Throttle from the class', () => {
      @Throttle({ default: { limit: 3, ttl: 60_000 } })
      class Throttled {
        text(): void {}
      }
      const { frames } = resolveEndpointPolicies(
        targetsOf(Throttled, 'text', { text: 'text' }),
        MODULE,
      );
      expect(frames).toEqual({ limit: 3, ttl: 60_000 });
    });

    it('let the handler override the class, as ThrottlerGuard does', () => {
      @Throttle({ default: { limit: 3, ttl: 60_000 } })
      class Both {
        @Throttle({ default: { limit: 7, ttl: 500 } })
        text(): void {}
      }
      const { frames } = resolveEndpointPolicies(targetsOf(Both, 'text', { text: 'text' }), MODULE);
      expect(frames).toEqual({ limit: 7, ttl: 500 });
    });

    it('are not limited under @SkipThrottle on the class or the handler', () => {
      @SkipThrottle()
      class Skipped {
        text(): void {}
      }
      class SkippedHandler {
        @SkipThrottle()
        text(): void {}
      }
      expect(
        resolveEndpointPolicies(targetsOf(Skipped, 'text', { text: 'text' }), MODULE).frames,
      ).toBeNull();
      expect(
        resolveEndpointPolicies(targetsOf(SkippedHandler, 'text', { text: 'text' }), MODULE).frames,
      ).toBeNull();
    });

    it('count again when the handler says @SkipThrottle({ default: false }) under a skipping class', () => {
      @SkipThrottle()
      class Skipped {
        @SkipThrottle({ default: false })
        text(): void {}
      }
      const { frames } = resolveEndpointPolicies(
        targetsOf(Skipped, 'text', { text: 'text' }),
        MODULE,
      );
      expect(frames).toEqual(MODULE);
    });
  });

  describe('/ws/json endpoints', () => {
    @Throttle({ default: { limit: 4, ttl: 2000 } })
    class Json {
      ping(): void {}
      @SkipThrottle()
      pong(): void {}
      @Throttle({ default: { limit: 1, ttl: 60_000 } })
      publish(): void {}
    }
    const targets = targetsOf(Json, 'json', { ping: 'ping', pong: 'pong', publish: 'publish' });

    it('count every frame against the class limit', () => {
      expect(resolveEndpointPolicies(targets, MODULE).frames).toEqual({ limit: 4, ttl: 2000 });
    });

    it('give a handler with its own decorator its own policy, and the others none', () => {
      const { handlers } = resolveEndpointPolicies(targets, MODULE);
      expect([...handlers]).toEqual([
        ['pong', null],
        ['publish', { limit: 1, ttl: 60_000 }],
      ]);
    });

    it('fill a handler limit without a ttl from the class, then the module', () => {
      class Partial {
        @Throttle({ default: { limit: 2 } })
        publish(): void {}
      }
      const { handlers } = resolveEndpointPolicies(
        targetsOf(Partial, 'json', { publish: 'publish' }),
        MODULE,
      );
      expect(handlers.get('publish')).toEqual({ limit: 2, ttl: MODULE.ttl });
    });
  });

  describe('refuses at boot, naming the gateway,', () => {
    it('a limit computed from an ExecutionContext', () => {
      @Throttle({ default: { limit: () => 3, ttl: 1000 } })
      class Dynamic {
        text(): void {}
      }
      expect(() =>
        resolveEndpointPolicies(targetsOf(Dynamic, 'text', { text: 'text' }), MODULE),
      ).toThrow(/@Throttle on Dynamic: limit must be a whole number/);
    });

    it('a limit below 1', () => {
      class Zero {
        @Throttle({ default: { limit: 0, ttl: 1000 } })
        publish(): void {}
      }
      expect(() =>
        resolveEndpointPolicies(targetsOf(Zero, 'json', { publish: 'publish' }), MODULE),
      ).toThrow(/@Throttle on Zero.publish: limit .* got 0/);
    });

    it('a block duration, tracker or key generator', () => {
      @Throttle({ default: { limit: 3, ttl: 1000, blockDuration: 5000 } })
      class Blocking {
        text(): void {}
      }
      expect(() =>
        resolveEndpointPolicies(targetsOf(Blocking, 'text', { text: 'text' }), MODULE),
      ).toThrow(/blockDuration, getTracker and generateKey are not supported/);
    });
  });
});

describe('messageThrottlerOf', () => {
  it('reads the throttler named default, or the unnamed one', () => {
    expect(messageThrottlerOf({ throttlers: [{ name: 'default', limit: 5, ttl: 100 }] })).toEqual({
      limit: 5,
      ttl: 100,
    });
    expect(messageThrottlerOf([{ limit: 6, ttl: 200 }])).toEqual({ limit: 6, ttl: 200 });
  });

  it('fails without one', () => {
    expect(() =>
      messageThrottlerOf({ throttlers: [{ name: 'http', limit: 5, ttl: 100 }] }),
    ).toThrow(/no "default" throttler/);
  });
});
