import { createSecretKey } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import type { Clock } from '../common/clock';
import type { JwtSettings } from './token-verifier';

/** The identity a token is signed for. */
export interface TokenClaims {
  /** Required and non-blank. */
  readonly sub: string;
  /** Omitted from the token when undefined or blank; verifiers then show `sub`. */
  readonly name?: string;
}

/**
 * Signs access tokens that TokenVerifier accepts with the same settings: HS256, `iat` now, `exp`
 * `ttlSeconds` later (always set), and `iss`/`aud` when JWT_ISSUER/JWT_AUDIENCE are set. Used by
 * `npm run token` and by tests; the gateway itself never issues tokens.
 */
export class TokenSigner {
  private readonly jwt: JwtService;
  private readonly issuer: string | undefined;
  private readonly audience: string | undefined;

  constructor(
    settings: JwtSettings,
    private readonly clock: Clock,
  ) {
    this.jwt = new JwtService({ secret: createSecretKey(Buffer.from(settings.secret, 'utf8')) });
    this.issuer = settings.issuer || undefined;
    this.audience = settings.audience || undefined;
  }

  /** Throws a RangeError for a blank `sub` or a `ttlSeconds` that is not a positive integer. */
  sign(claims: TokenClaims, ttlSeconds: number): string {
    if (claims.sub.trim() === '') throw new RangeError('sub must not be blank');
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new RangeError(`ttlSeconds must be a positive integer (got ${ttlSeconds})`);
    }
    const iat = Math.floor(this.clock.now() / 1000);
    const payload = {
      sub: claims.sub,
      ...(claims.name?.trim() ? { name: claims.name } : {}),
      ...(this.issuer ? { iss: this.issuer } : {}),
      ...(this.audience ? { aud: this.audience } : {}),
      iat,
      exp: iat + ttlSeconds,
    };
    return this.jwt.sign(payload, { algorithm: 'HS256' });
  }
}
