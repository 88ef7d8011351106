const UNIT_SECONDS: Readonly<Record<string, number>> = {
  '': 1,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

/**
 * Reads a token lifetime such as `30s`, `15m`, `1h`, `7d` or plain seconds (`90`) into seconds.
 * Returns undefined for anything else: zero, signs, fractions, spaces, other units, or a value
 * too large to be an exact integer.
 */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (!match) return undefined;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]];
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}
