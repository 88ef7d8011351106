import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { HttpThrottlerGuard } from '../limits/http-throttler.guard';
import type { ApiErrorBody } from './api-errors';
import { apiKeyOf } from './api-key.guard';

const MINUTE_MS = 60_000;

/**
 * HttpThrottlerGuard counted per API key instead of per IP and route: API_RATE_LIMIT requests
 * per minute for each key over all /api routes, in the shared ThrottlerStorage (Redis when
 * REDIS_URL is set, so the budget holds across instances). Runs after ApiKeyGuard. Past the
 * limit: 429 `{"error":"Too Many Requests"}` with Retry-After (seconds).
 */
@Injectable()
export class ApiThrottlerGuard extends HttpThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const name = apiKeyOf(request.context.switchToHttp().getRequest()).name;
    return super.handleRequest({
      ...request,
      limit: this.config.api.rateLimitPerMinute,
      ttl: MINUTE_MS,
      blockDuration: MINUTE_MS,
      getTracker: () => name,
      // REDIS_PREFIX: deployments sharing a Redis do not share budgets.
      generateKey: (_context, tracker) => `${this.config.redis.prefix}api-key:${tracker}`,
    });
  }

  protected override throwThrottlingException(): Promise<void> {
    return Promise.reject<void>(new ApiRateLimitedException());
  }
}

/**
 * A ThrottlerException (which HttpThrottlerGuard lets through rather than failing open) with
 * the API's body.
 */
class ApiRateLimitedException extends ThrottlerException {
  override getResponse(): ApiErrorBody {
    return { error: 'Too Many Requests' };
  }
}
