import { DefaultValuePipe, Module } from '@nestjs/common';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import {
  TEXT_EVENT,
  type EndpointDefinition,
  type EndpointName,
} from '../../src/protocol/endpoints';
import { EndpointGateway } from '../../src/transport/endpoint-gateway.decorator';

/**
 * Gateways that only tests mount (createApp's `imports`), each carrying @Throttle / @SkipThrottle
 * the way an application's own gateway would. Their endpoint names are not in the contract's
 * list; metrics count them under those names.
 */
function testEndpoint(path: string, format: 'text' | 'json'): EndpointDefinition {
  return { name: path.slice(1) as EndpointName, path, format, params: {} };
}

export const ThrottledPaths = {
  /** Text, class @Throttle: 2 per minute. */
  classLimit: '/throttled-class',
  /** Text, class @SkipThrottle. */
  classSkip: '/throttled-skip',
  /** Text, handler @Throttle: 3 per minute (over a class limit of 2 it overrides). */
  handlerLimit: '/throttled-handler',
  /** JSON, class 4 per minute; `free` skipped, `scarce` 1 per minute, `scarcePiped` 2 per minute. */
  json: '/throttled-json',
} as const;

@EndpointGateway(testEndpoint(ThrottledPaths.classLimit, 'text'))
@Throttle({ default: { limit: 2, ttl: 60_000 } })
class ClassLimitGateway {
  @SubscribeMessage(TEXT_EVENT)
  echo(@MessageBody() text: string): string {
    return `got ${text}`;
  }
}

@EndpointGateway(testEndpoint(ThrottledPaths.classSkip, 'text'))
@SkipThrottle()
class ClassSkipGateway {
  @SubscribeMessage(TEXT_EVENT)
  echo(@MessageBody() text: string): string {
    return `got ${text}`;
  }
}

@EndpointGateway(testEndpoint(ThrottledPaths.handlerLimit, 'text'))
@Throttle({ default: { limit: 2, ttl: 60_000 } })
class HandlerLimitGateway {
  @SubscribeMessage(TEXT_EVENT)
  @Throttle({ default: { limit: 3, ttl: 60_000 } })
  echo(@MessageBody() text: string): string {
    return `got ${text}`;
  }
}

@EndpointGateway(testEndpoint(ThrottledPaths.json, 'json'))
@Throttle({ default: { limit: 4, ttl: 60_000 } })
class JsonThrottledGateway {
  @SubscribeMessage('plain')
  plain(): { type: string; data: object } {
    return { type: 'plain', data: {} };
  }

  @SubscribeMessage('free')
  @SkipThrottle()
  free(): { type: string; data: object } {
    return { type: 'free', data: {} };
  }

  /** Called directly by the transport (no pipe). */
  @SubscribeMessage('scarce')
  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  scarce(): { type: string; data: object } {
    return { type: 'scarce', data: {} };
  }

  /**
   * Goes through Nest's wrapper (a pipe): the limit holds on that path too. Asynchronous, so the
   * frames after it wait behind it (a handler that answers synchronously holds nothing).
   */
  @SubscribeMessage('scarcePiped')
  @Throttle({ default: { limit: 2, ttl: 60_000 } })
  async scarcePiped(@MessageBody('payload', new DefaultValuePipe('none')) payload: unknown) {
    await Promise.resolve();
    return { type: 'scarcePiped', data: { payload } };
  }
}

@Module({
  providers: [ClassLimitGateway, ClassSkipGateway, HandlerLimitGateway, JsonThrottledGateway],
})
export class ThrottledGatewaysModule {}
