import type { IncomingMessage } from 'node:http';

/** What an upgrade request carries in the way of a token. */
export type ExtractedToken =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly token: string }
  /** Two different tokens: refused as invalid, see extractToken. */
  | { readonly kind: 'ambiguous' };

const ABSENT: ExtractedToken = Object.freeze({ kind: 'absent' });
const AMBIGUOUS: ExtractedToken = Object.freeze({ kind: 'ambiguous' });

/**
 * Finds the access token of an upgrade request in the query (`?token=`, percent-decoded) and in
 * `Authorization: Bearer <token>` (scheme case-insensitive). Pure and total: it never throws, not
 * even for a malformed URL, and never logs.
 *
 * - Empty values count as absent (`?token=`, `Authorization: Bearer`), and so does an
 *   Authorization header with another scheme: it is not addressed to us.
 * - The same token in both places (or repeated) is accepted once.
 * - Two different tokens make the request `ambiguous`, which the verifier refuses as invalid.
 *   Letting the header win would be as simple, but then an intermediary that inspects one
 *   credential (a proxy, a log scrubber, a per-token limiter) could be looking at a different
 *   token from the one we authenticate; a correct client never sends two, so refusing costs
 *   nothing and leaves no question about which one counts.
 */
export function extractToken(request: Pick<IncomingMessage, 'url' | 'headers'>): ExtractedToken {
  const candidates = new Set(queryTokens(request.url));
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== undefined) candidates.add(bearer);
  candidates.delete('');
  if (candidates.size === 0) return ABSENT;
  if (candidates.size > 1) return AMBIGUOUS;
  const [token] = candidates;
  return { kind: 'present', token };
}

/**
 * Every `token` value of the query. URLSearchParams is lenient by specification (an undecodable
 * escape stays as it is), so a malformed URL yields a token that fails verification, never an
 * exception.
 */
function queryTokens(url: string | undefined): string[] {
  if (url === undefined) return [];
  const start = url.indexOf('?');
  if (start === -1) return [];
  const end = url.indexOf('#', start);
  return new URLSearchParams(url.slice(start + 1, end === -1 ? undefined : end)).getAll('token');
}

/** The credentials of a Bearer Authorization header, undefined for none or another scheme. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^\s*(\S+)\s*(.*?)\s*$/);
  if (!match || match[1].toLowerCase() !== 'bearer') return undefined;
  return match[2];
}
