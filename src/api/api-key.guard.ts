import type { IncomingMessage } from 'node:http';
import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKey, ApiScope } from '../config/api-keys';
import { AppConfig } from '../config/app-config';
import { ApiErrors } from './api-errors';
import { ApiKeyMatcher } from './api-key-matcher';
import { API_SCOPE } from './api-scope.decorator';

/** The request of an /api route once ApiKeyGuard let it through. */
export interface ApiRequest extends IncomingMessage {
  apiKey?: ApiKey;
}

/** The key ApiKeyGuard attached to `request`; throws if the guard did not run. */
export function apiKeyOf(request: unknown): ApiKey {
  const key = (request as ApiRequest).apiKey;
  if (key === undefined) throw new Error('ApiKeyGuard must run before this');
  return key;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authenticates an /api call by `Authorization: Bearer <secret>` or `X-API-Key: <secret>`:
 * 401 without a matching key, 403 when the key lacks the route's scope (@RequiresScope). Logs
 * the key's name (never its secret) with the route, so every call is attributable.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger('Api');
  private readonly matcher: ApiKeyMatcher;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.matcher = new ApiKeyMatcher(config.api.keys);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ApiRequest>();
    const presented = presentedSecret(request);
    const key = presented === undefined ? undefined : this.matcher.match(presented);
    if (key === undefined) throw ApiErrors.unauthorized();
    const needed = this.reflector.getAllAndOverride<ApiScope | undefined>(API_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    this.logger.log({ msg: 'api call', key: key.name, method: request.method, url: request.url });
    if (needed !== undefined && key.scope !== 'admin' && key.scope !== needed) {
      throw ApiErrors.forbidden();
    }
    request.apiKey = key;
    return true;
  }
}

function presentedSecret(request: IncomingMessage): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = BEARER.exec(request.headers.authorization ?? '');
  return bearer?.[1];
}
