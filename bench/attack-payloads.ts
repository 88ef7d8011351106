/**
 * The costliest /ws/json frames a client can send inside MAX_MESSAGE_BYTES, for the
 * validation-attack scenario: each makes the server parse a full-size frame and then walk,
 * validate or refuse as much of it as it will.
 */

/** `open` + as many `item(i)` joined by "," as fit in `bytes` with `close`. */
function fill(open: string, item: (i: number) => string, close: string, bytes: number): string {
  const parts: string[] = [];
  let length = open.length + close.length;
  for (let i = 0; ; i++) {
    const next = item(i);
    const added = next.length + (i > 0 ? 1 : 0);
    if (length + added > bytes) break;
    parts.push(next);
    length += added;
  }
  return `${open}${parts.join(',')}${close}`;
}

/** Nested arrays `levels` deep, each level holding `width` zeros before the next level. */
function deepAndWide(levels: number, width: number): string {
  const zeros = Array(width).fill('0').join(',');
  return `${`[${zeros},`.repeat(levels - 1)}[${zeros}]${']'.repeat(levels - 1)}`;
}

export function attackPayloads(maxBytes: number): string[] {
  return [
    // Wide: a valid subscribe carrying thousands of undeclared fields.
    fill('{"type":"subscribe","payload":{', (i) => `"f${i}":0`, ',"channel":"attack"}}', maxBytes),
    // Wide: a publish whose message object has thousands of keys.
    fill(
      '{"type":"publish","payload":{"channel":"nobody","message":{',
      (i) => `"k${i}":${i}`,
      '}}}',
      maxBytes,
    ),
    // Long: a publish whose message array holds as many elements as fit.
    fill('{"type":"publish","payload":{"channel":"nobody","message":[', () => '0', ']}}', maxBytes),
    // Deep: 31 levels of message inside the payload, as wide as the entry bound allows.
    `{"type":"publish","payload":{"channel":"nobody","message":${deepAndWide(31, 300)}}}`,
    // Long: a channel name the size of the frame.
    `{"type":"subscribe","payload":{"channel":"${'a'.repeat(maxBytes - 64)}"}}`,
  ];
}
