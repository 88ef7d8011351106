/** Longest value a cut line keeps for a field; longer values are replaced. */
const MAX_FIELD_CHARS = 512;

/**
 * `line` (one serialized JSON log entry and its newline) when it fits in `maxChars`
 * (MAX_LOG_LINE_CHARS, newline included); else the
 * same entry with every value longer than MAX_FIELD_CHARS replaced by a note of its length, and
 * `"truncated":true`. Still one valid JSON line, so log pipelines keep parsing it. Costs a length
 * check per line; only an oversized line is parsed again.
 */
export function capLine(line: string, maxChars: number): string {
  if (line.length <= maxChars) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = undefined;
  }
  const fields: Record<string, unknown> = {};
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    for (const [key, value] of Object.entries(entry)) {
      const json = JSON.stringify(value);
      fields[key] = json.length <= MAX_FIELD_CHARS ? value : `[${json.length} chars cut]`;
    }
  }
  fields.truncated = true;
  const capped = `${JSON.stringify(fields)}\n`;
  if (capped.length <= maxChars) return capped;
  // Too many fields even when each is short: keep what says what happened.
  const { level, time, msg, context } = fields;
  return `${JSON.stringify({ level, time, msg, context, truncated: true })}\n`;
}
