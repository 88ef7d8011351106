import { SetMetadata } from '@nestjs/common';
import type { ApiScope } from '../config/api-keys';

export const API_SCOPE = 'switchboard:api-scope';

/**
 * The scope a route needs. `admin` keys pass every route; `read` keys the read routes (history,
 * presence); `publish` keys publish and broadcast. Disconnecting users needs `admin`.
 */
export const RequiresScope = (scope: Exclude<ApiScope, 'admin'> | 'admin') =>
  SetMetadata(API_SCOPE, scope);
