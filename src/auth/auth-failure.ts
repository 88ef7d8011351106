import { CloseReason } from '../protocol/close-codes';

/**
 * Why a token was refused. `missing`: the request carried none. `expired`: a token that is valid
 * in every other respect but whose `exp` has passed. `invalid`: everything else (bad signature,
 * an algorithm other than HS256, wrong issuer or audience, a malformed claim, not yet valid, or
 * two different tokens in one request).
 */
export type AuthFailureReason = 'missing' | 'invalid' | 'expired';

/** The reason sent with close 1008 (CloseCode.PolicyViolation) for each refusal. */
export const AuthCloseReason: Readonly<Record<AuthFailureReason, string>> = {
  missing: CloseReason.TokenMissing,
  invalid: CloseReason.TokenInvalid,
  expired: CloseReason.TokenExpired,
};
