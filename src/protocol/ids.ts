/**
 * The id rule shared by client ids, room ids and channel names, on every path and in /ws/json
 * payloads: after percent-decoding and NFC normalisation, 1–64 code points of Unicode letters
 * (\p{L}), combining marks (\p{M}, never first), digits (\p{N}) and `_ . : - @ +`.
 *
 * Why the rest is refused (docs/protocol.md, "Ids", says the same to clients):
 * - `/` and `%`: an id is one path segment; a decoded slash or a second round of escapes would
 *   make the same id reachable by several paths.
 * - Whitespace, control and format characters (bidi overrides, zero-width joiners): ids appear
 *   in log lines and chat lines, where these forge or hide text.
 * - `* ? [ ]` and `\`: an id becomes part of a Redis channel name; glob characters there would
 *   match other channels for anyone who subscribes by pattern.
 * - A leading mark would combine with whatever precedes the id (`room:`, `Client `).
 *
 * Marks are allowed because Devanagari, Thai, Arabic and other scripts cannot write a name
 * without them, even in NFC; a name of 64 code points bounds how many a single id can stack.
 */
export const ID_MAX_CODE_POINTS = 64;

/** The rule on the NFC form; `u` makes `{1,64}` count code points, not UTF-16 units. */
export const ID_PATTERN = /^(?!\p{M})[\p{L}\p{M}\p{N}_.:@+-]{1,64}$/u;

export const ID_RULE_DESCRIPTION =
  '1-64 letters, digits, combining marks (not first) or _ . : - @ +';

/**
 * No input longer than this can normalise to a valid id: NFC composes at most four code points
 * into one (U+1F87 is α + three marks), each at most two UTF-16 units. Refusing longer input
 * first keeps normalisation bounded however long a path segment or payload is.
 */
const MAX_INPUT_UTF16_UNITS = ID_MAX_CODE_POINTS * 4 * 2;

/**
 * The canonical form of an id: its NFC normalisation if that follows the rule, otherwise
 * undefined. `café` typed as `e` + U+0301 and as U+00E9 is the same id.
 */
export function canonicalId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_INPUT_UTF16_UNITS) return undefined;
  const normalised = normaliseId(value);
  return ID_PATTERN.test(normalised) ? normalised : undefined;
}

/** The canonical form of a string already checked with `isValidId`. */
export function normaliseId(id: string): string {
  return id.normalize('NFC');
}

export function isValidId(value: unknown): value is string {
  return canonicalId(value) !== undefined;
}
