import { Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import { SystemClock } from '../common/clock';
import { FailOpenWarnings } from './fail-open-warnings';

/**
 * @nestjs/throttler's ThrottlerGuard for HTTP controllers, applied with
 * `@UseGuards(HttpThrottlerGuard)`: the `default` throttler (RATE_LIMIT_MAX per
 * RATE_LIMIT_WINDOW_MS) per client IP and route, `@Throttle()` / `@SkipThrottle()` as usual, and
 * 429 with Retry-After past the limit. Two changes to the stock guard:
 * - it fails open like the per-IP upgrade limit: when the storage (Redis) errs, the request is
 *   let through and a warning logged (at most one per 10 s, with the count held back), since a
 *   Redis outage must weaken a limit, not answer 500 to every request;
 * - it lets every non-HTTP context through: WebSocket messages are limited by the transport
 *   before they are decoded (MessageThrottles), and the stock guard would read the socket as a
 *   request.
 */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  private readonly warnings = new FailOpenWarnings(
    new Logger(HttpThrottlerGuard.name),
    'HTTP rate limit storage failed: request allowed without counting it',
    new SystemClock(),
  );

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(context.getType() !== 'http');
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof ThrottlerException) throw error;
      this.warnings.failed(error);
      return true;
    }
  }
}
