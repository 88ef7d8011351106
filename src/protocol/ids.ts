/**
 * The id rule shared by client ids, room ids and channel names: 1–64 characters of
 * `[A-Za-z0-9_.:-]`, checked after percent-decoding. Anything else is refused with close 1008.
 */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const ID_RULE_DESCRIPTION = '1-64 characters of A-Z a-z 0-9 _ . : -';

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
