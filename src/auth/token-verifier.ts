import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { JwtService } from '@nestjs/jwt';
import type { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import type { AuthFailureReason } from './auth-failure';
import type { Principal } from './principal';
import { extractToken } from './token-extractor';

/** The part of the configuration tokens are checked against. */
export type JwtSettings = Pick<AppConfig['jwt'], 'secret' | 'issuer' | 'audience'>;

export type VerifyResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: AuthFailureReason };

/** A refresh is refused like a connection, or because the new token names another subject. */
export type RefreshResult =
  VerifyResult | { readonly ok: false; readonly reason: 'subject-mismatch' };

const MISSING = Object.freeze({ ok: false, reason: 'missing' }) satisfies VerifyResult;
const INVALID = Object.freeze({ ok: false, reason: 'invalid' }) satisfies VerifyResult;
const EXPIRED = Object.freeze({ ok: false, reason: 'expired' }) satisfies VerifyResult;

/**
 * Verifies access tokens: HS256 with JWT_SECRET only, `iss` and `aud` when JWT_ISSUER and
 * JWT_AUDIENCE are set, a non-blank string `sub`, and `exp`/`nbf` against the injected clock with
 * no tolerance. Synchronous and allocation-light, since it runs at every upgrade.
 *
 * Never throws and never logs: every failure is a result, and nothing it returns quotes the token.
 *
 * A token without `exp` is accepted and never expires (its principal has no `exp`, so the
 * transport sets no expiry timer). Only holders of JWT_SECRET can mint tokens, so a token without
 * `exp` is the issuer's deliberate choice, and RFC 7519 makes the claim optional. Issuers that
 * want sessions to end must set it; the signer, and so `npm run token`, always does.
 */
export class TokenVerifier {
  private readonly jwt: JwtService;

  constructor(
    settings: JwtSettings,
    private readonly clock: Clock,
  ) {
    this.jwt = new JwtService({
      // A KeyObject built once: given a string, jsonwebtoken first tries (and fails) to parse it
      // as a public key at every call, which made verification about 30 times slower (~0.5 ms).
      secret: createSecretKey(Buffer.from(settings.secret, 'utf8')),
      verifyOptions: {
        algorithms: ['HS256'],
        ...(settings.issuer ? { issuer: settings.issuer } : {}),
        ...(settings.audience ? { audience: settings.audience } : {}),
        // Time is checked below with the injected clock, after every other check, so that only
        // a token that is good in every other respect is reported as expired.
        ignoreExpiration: true,
        ignoreNotBefore: true,
      },
    });
  }

  /** Verifies `token`; undefined or empty is `missing`. */
  verify(token: string | undefined): VerifyResult {
    if (!token) return MISSING;
    let payload: unknown;
    try {
      payload = this.jwt.verify(token);
    } catch {
      // The input is the client's: any failure of the JWT library is a refusal, never a crash of
      // the upgrade handler. Nothing is logged, since an error could quote the token.
      return INVALID;
    }
    const claims = readClaims(payload);
    if (claims === undefined) return INVALID;
    const nowSeconds = this.clock.now() / 1000;
    if (claims.nbf !== undefined && claims.nbf > nowSeconds) return INVALID;
    if (claims.exp !== undefined && nowSeconds >= claims.exp) return EXPIRED;
    return { ok: true, principal: claims.principal };
  }

  /** Extracts the token of an upgrade request (see extractToken) and verifies it. */
  authenticate(request: Pick<IncomingMessage, 'url' | 'headers'>): VerifyResult {
    const extracted = extractToken(request);
    switch (extracted.kind) {
      case 'absent':
        return MISSING;
      case 'ambiguous':
        return INVALID;
      case 'present':
        return this.verify(extracted.token);
    }
  }

  /**
   * Verifies a token offered to replace `current`'s. It must pass every check of `verify` and
   * name the same subject; the principal it returns carries the new name and expiry.
   */
  verifyRefresh(current: Principal, token: string | undefined): RefreshResult {
    const result = this.verify(token);
    if (result.ok && result.principal.sub !== current.sub) {
      return { ok: false, reason: 'subject-mismatch' };
    }
    return result;
  }
}

interface Claims {
  readonly principal: Principal;
  readonly nbf?: number;
  readonly exp?: number;
}

/**
 * The claims Switchboard relies on, or undefined when one is malformed: `sub` must be a non-blank
 * string, `name` a string when present (null counts as absent), `exp` and `nbf` numbers.
 */
function readClaims(payload: unknown): Claims | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const { sub, name, exp, nbf } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.trim() === '') return undefined;
  if (name !== undefined && name !== null && typeof name !== 'string') return undefined;
  if (exp !== undefined && typeof exp !== 'number') return undefined;
  if (nbf !== undefined && typeof nbf !== 'number') return undefined;
  const displayName = typeof name === 'string' && name.trim() !== '' ? name : sub;
  return {
    principal: exp === undefined ? { sub, name: displayName } : { sub, name: displayName, exp },
    nbf,
    exp,
  };
}
