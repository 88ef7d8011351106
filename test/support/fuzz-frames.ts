import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';

/**
 * fast-check arbitraries for hostile WebSocket frames, and what the wire contract says the server
 * does with each before any endpoint sees it (docs/protocol.md, "Frames").
 */

/**
 * One message as a client puts it on the wire: raw bytes, as a text or a binary message, in one
 * frame or split into fragments (a first frame and continuation frames) of the given sizes.
 */
export interface FuzzFrame {
  readonly kind: string;
  readonly bytes: Buffer;
  readonly binary: boolean;
  /** Sizes of the fragments, summing to the length; undefined for a single frame. */
  readonly fragments?: readonly number[];
}

/** The pieces `frame` is sent in: the fragments, or the whole message as one. */
export function piecesOf(frame: FuzzFrame): Buffer[] {
  if (!frame.fragments) return [frame.bytes];
  let offset = 0;
  return frame.fragments.map((size) => frame.bytes.subarray(offset, (offset += size)));
}

/** What the transport does with a frame: hands its text to the endpoint, or closes the socket. */
export type FrameVerdict =
  | { readonly handled: true; readonly text: string }
  | { readonly handled: false; readonly code: number; readonly reason: string };

/**
 * The documented fate of `frame` under MAX_MESSAGE_BYTES = `maxBytes`: over the limit, 1009
 * (text or binary, whole message after reassembly; ws refuses it from a frame header); binary,
 * 1003; a text message that is not UTF-8, 1007. Anything else is a text message for the endpoint.
 */
export function verdictOf(frame: FuzzFrame, maxBytes: number): FrameVerdict {
  if (frame.bytes.length > maxBytes) return { handled: false, code: 1009, reason: '' };
  if (frame.binary) {
    return { handled: false, code: 1003, reason: 'Binary frames are not supported' };
  }
  if (!isUtf8(frame.bytes)) return { handled: false, code: 1007, reason: '' };
  return { handled: true, text: frame.bytes.toString('utf8') };
}

/** A frame that prints readably in a fast-check counterexample. */
function frame(
  kind: string,
  bytes: Buffer,
  binary: boolean,
  fragments?: readonly number[],
): FuzzFrame {
  return {
    kind,
    bytes,
    binary,
    fragments,
    [fc.toStringMethod]: () => {
      const content =
        !binary && isUtf8(bytes)
          ? JSON.stringify(preview(bytes.toString('utf8')))
          : `0x${bytes.subarray(0, 48).toString('hex')}${bytes.length > 48 ? '…' : ''}`;
      const split = fragments ? `, in fragments of ${fragments.join('+')} B` : '';
      return `${kind}(${binary ? 'binary' : 'text'}, ${bytes.length} B${split}, ${content})`;
    },
  } as FuzzFrame;
}

/**
 * Sends about one message in five as fragments, cut at random places (empty fragments included,
 * and UTF-8 characters cut in two), which the server must reassemble before any check.
 */
function fragmented(message: fc.Arbitrary<FuzzFrame>): fc.Arbitrary<FuzzFrame> {
  return fc
    .tuple(message, fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { freq: 4 }))
    .map(([whole, cuts]) => {
      if (cuts === null) return whole;
      const length = whole.bytes.length;
      const points = cuts.map((cut) => cut % (length + 1)).sort((a, b) => a - b);
      const sizes = [...points, length].map((point, i) => point - (i ? points[i - 1] : 0));
      return frame(whole.kind, whole.bytes, whole.binary, sizes);
    });
}

function preview(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`;
}

const textOf = (kind: string) => (text: string) => frame(kind, Buffer.from(text, 'utf8'), false);

/** Strings a text endpoint may find interesting: empty, NUL, BOM, look-alikes of its replies. */
const SPECIAL_TEXTS = [
  '',
  ' ',
  '\u0000',
  '\uFEFF',
  '\r\n',
  '\uFFFD',
  '{"error":"Rate limit exceeded"}',
  '{"error":"Internal server error"}',
  'Echo: ',
  'Client a left',
  '\u{1F680}'.repeat(3),
  'é'.repeat(5),
];

const unicodeText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary-ascii', maxLength: 24 }),
  fc.constantFrom(...SPECIAL_TEXTS),
);

/** Byte sequences that are not UTF-8: overlong forms, surrogates, out of range, truncated. */
const INVALID_UTF8 = [
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc3],
].map((bytes) => Buffer.from(bytes));

const invalidUtf8Text = fc
  .tuple(unicodeText, fc.constantFrom(...INVALID_UTF8), unicodeText)
  .map(([before, bad, after]) =>
    frame('invalid-utf8', Buffer.concat([Buffer.from(before), bad, Buffer.from(after)]), false),
  );

/** Random bytes sent as a text frame: mostly invalid UTF-8, sometimes valid by chance. */
const bytesAsText = fc
  .uint8Array({ maxLength: 32 })
  .map((bytes) => frame('bytes-as-text', Buffer.from(bytes), false));

const binaryFrame = fc
  .oneof(fc.uint8Array({ maxLength: 32 }), fc.constant(new Uint8Array(0)))
  .map((bytes) => frame('binary', Buffer.from(bytes), true));

/**
 * Exactly `size` bytes of valid UTF-8: `fill` repeated, cut at a character boundary, padded
 * with ASCII. Multi-byte fills make the byte count differ from the character count.
 */
function utf8OfSize(fill: string, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  const chars = [...(fill || 'a')];
  for (let i = 0; ; i++) {
    const char = Buffer.from(chars[i % chars.length]);
    if (used + char.length > size) break;
    parts.push(char);
    used += char.length;
  }
  parts.push(Buffer.alloc(size - used, 'a'));
  return Buffer.concat(parts);
}

/** Frames around the size limit: one byte under, exactly at, one byte over, and beyond. */
function sizedFrame(maxBytes: number) {
  return fc
    .record({
      size: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(maxBytes - 1, maxBytes, maxBytes + 1) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * maxBytes }) },
      ),
      fill: fc.oneof(fc.constantFrom('a', 'é', '€', '\u{1F680}', '{"a":'), unicodeText),
      binary: fc.boolean(),
    })
    .map(({ size, fill, binary }) =>
      binary
        ? frame(`sized-${size}`, Buffer.alloc(size, fill.charCodeAt(0) || 0), true)
        : frame(`sized-${size}`, utf8OfSize(fill, size), false),
    );
}

// ---------------------------------------------------------------------------------------------
// Near-JSON: texts built from raw JSON fragments, so that they can hold what JSON.stringify
// never writes (numbers beyond a double, duplicate keys, `__proto__` keys), then garbled.

/** JSON number literals that do not survive as themselves: overflow, underflow, -0, 2^53 + 1. */
const ODD_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '123456789012345678901234567890',
  '9007199254740993',
  '1E+2',
  '-1.5e308',
  '0.1',
];

/** Texts that are almost, but not, JSON values. */
const NOT_QUITE_JSON = [
  'NaN',
  'Infinity',
  'undefined',
  "'x'",
  '01',
  '.5',
  '+1',
  '0x10',
  'tru',
  'nul',
  '"\\u12"',
  '"\\x41"',
  '"a\nb"',
  '[1,]',
  '{"a":1,}',
  '{a:1}',
  '"',
  '{',
  '[',
  '}',
];

const jsonLiteral = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  {
    weight: 2,
    arbitrary: fc
      .jsonValue({ maxDepth: 2, stringUnit: 'binary' })
      .map((value) => JSON.stringify(value)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom('"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"') },
  { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false', '[]', '{}', '""', '0') },
);

/** Nested arrays or objects, `depth` levels deep, closed or left open. */
const deepNesting = fc
  .record({
    depth: fc.integer({ min: 1, max: 400 }),
    shape: fc.constantFrom('array', 'object'),
    closed: fc.boolean(),
  })
  .map(({ depth, shape, closed }) => {
    const [open, close] = shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
    return (
      open.repeat(depth) + (shape === 'array' ? '' : '1') + (closed ? close.repeat(depth) : '')
    );
  });

const anyValue = fc.oneof(
  { weight: 12, arbitrary: jsonLiteral },
  { weight: 1, arbitrary: fc.constantFrom(...NOT_QUITE_JSON) },
  { weight: 1, arbitrary: deepNesting },
);

const KEYS = [
  'type',
  'payload',
  'id',
  'channel',
  'message',
  'token',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
];
const key = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...KEYS) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  )
  .map((k) => JSON.stringify(k));

type Entry = readonly [string, string];

function objectText(entries: readonly Entry[], spaced: boolean): string {
  const sep = spaced ? ' , ' : ',';
  return `{${entries.map(([k, v]) => `${k}${spaced ? ' : ' : ':'}${v}`).join(sep)}}`;
}

const json = (values: readonly string[]) => values.map((value) => JSON.stringify(value));

const REQUEST_TYPES = ['ping', 'pong', 'subscribe', 'unsubscribe', 'publish', 'refresh'];
const ODD_TYPES = [
  '',
  'PING',
  ' ping',
  'ping\u0000',
  'message',
  'error',
  'pong ',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
];

/** Channel names: valid, at and over 64 characters, outside the id alphabet, wrong types. */
const CHANNELS = json([
  'a',
  'news',
  'b.c:d-e_f',
  'x'.repeat(64),
  'x'.repeat(65),
  '',
  'a b',
  'ünï',
  'bob@example.com',
  'user+1',
  'cafe\u0301',
  '\u0301a',
  'news*',
  'a\u202eb',
  '..',
  'a/b',
  '\ud800',
]);

/**
 * `/ws/json` envelopes `{type, payload?, id?}` with every field sometimes of the wrong type,
 * keys in any order, extra and duplicate keys. `tokens` are JWTs a refresh may carry.
 */
function envelope(tokens: readonly string[]) {
  const type = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...json(REQUEST_TYPES)) },
    { weight: 2, arbitrary: fc.constantFrom(...json(ODD_TYPES)) },
    { weight: 1, arbitrary: anyValue },
  );
  const channel = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...CHANNELS) },
    { weight: 1, arbitrary: anyValue },
  );
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...json(tokens), '""', '"not.a.jwt"') },
    { weight: 1, arbitrary: anyValue },
  );
  const payloadEntry = fc.oneof(
    { weight: 3, arbitrary: channel.map((v): Entry => ['"channel"', v]) },
    { weight: 3, arbitrary: anyValue.map((v): Entry => ['"message"', v]) },
    { weight: 2, arbitrary: token.map((v): Entry => ['"token"', v]) },
    { weight: 1, arbitrary: fc.tuple(key, anyValue) },
  );
  const payload = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.array(payloadEntry, { maxLength: 4 }), fc.boolean())
        .map(([entries, spaced]) => objectText(entries, spaced)),
    },
    { weight: 1, arbitrary: anyValue },
  );
  const id = fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)) },
    { weight: 2, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.double().map((n) => JSON.stringify(n)) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom('null', 'true', '[]', '{}', '[1]', '{"a":1}') },
  );
  return fc
    .record({
      type: fc.option(type, { freq: 10 }),
      payload: fc.option(payload, { freq: 2 }),
      id: fc.option(id, { freq: 2 }),
      extra: fc.array(fc.tuple(key, anyValue), { maxLength: 2 }),
      rotate: fc.nat(),
      spaced: fc.boolean(),
    })
    .map(({ type, payload, id, extra, rotate, spaced }) => {
      const entries: Entry[] = [];
      if (type !== null) entries.push(['"type"', type]);
      if (payload !== null) entries.push(['"payload"', payload]);
      if (id !== null) entries.push(['"id"', id]);
      entries.push(...extra);
      const shift = entries.length ? rotate % entries.length : 0;
      return objectText([...entries.slice(shift), ...entries.slice(0, shift)], spaced);
    });
}

/** Channels that follow the id rule, few so that subscribes and publishes meet. */
const GOOD_CHANNELS = json(['a', 'news', 'x'.repeat(64), 'café', 'cafe\u0301', 'bob@example.com']);

/**
 * Well-formed requests of every type, so that each branch of the protocol runs often: random
 * ids, messages of any JSON, tokens from `tokens`.
 */
function wellFormedRequest(tokens: readonly string[]) {
  const id = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)) },
    { weight: 2, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
  );
  const channel = fc.constantFrom(...GOOD_CHANNELS);
  const payload = fc.oneof(
    fc.record({ type: fc.constantFrom('ping', 'pong'), payload: fc.constant(undefined) }),
    fc.record({
      type: fc.constantFrom('subscribe', 'unsubscribe'),
      payload: channel.map((c) => objectText([['"channel"', c]], false)),
    }),
    fc.record({
      type: fc.constant('publish'),
      payload: fc.tuple(channel, jsonLiteral).map(([c, m]) =>
        objectText(
          [
            ['"channel"', c],
            ['"message"', m],
          ],
          false,
        ),
      ),
    }),
    fc.record({
      type: fc.constant('refresh'),
      payload: fc
        .constantFrom(...json(tokens), '"not.a.jwt"')
        .map((t) => objectText([['"token"', t]], false)),
    }),
  );
  return fc.tuple(payload, id).map(([request, requestId]) => {
    const entries: Entry[] = [['"type"', JSON.stringify(request.type)]];
    if (request.payload !== undefined) entries.push(['"payload"', request.payload]);
    if (requestId !== undefined) entries.push(['"id"', requestId]);
    return objectText(entries, false);
  });
}

/** Ways to garble a text: cut it, drop or insert a character, wrap or pad it. */
const GARBLES = [
  'none',
  'truncate',
  'delete',
  'insert',
  'array',
  'string',
  'bom',
  'trailing',
  'whitespace',
] as const;

function garble(text: string, how: (typeof GARBLES)[number], at: number, char: string): string {
  const i = text.length ? at % (text.length + 1) : 0;
  switch (how) {
    case 'none':
      return text;
    case 'truncate':
      return text.slice(0, i);
    case 'delete':
      return text.slice(0, i) + text.slice(i + 1);
    case 'insert':
      return text.slice(0, i) + char + text.slice(i);
    case 'array':
      return `[${text}]`;
    case 'string':
      return JSON.stringify(text);
    case 'bom':
      return `\uFEFF${text}`;
    case 'trailing':
      return `${text}${char}`;
    case 'whitespace':
      return ` \t\n${text}\r\n `;
  }
}

/** Near-JSON texts: envelopes and other JSON values, sometimes garbled. */
function nearJson(tokens: readonly string[]) {
  return fc
    .tuple(
      fc.oneof(
        { weight: 5, arbitrary: wellFormedRequest(tokens) },
        { weight: 5, arbitrary: envelope(tokens) },
        { weight: 1, arbitrary: anyValue },
        {
          weight: 1,
          arbitrary: deepNesting.map((nested) =>
            objectText(
              [
                ['"type"', '"publish"'],
                [
                  '"payload"',
                  objectText(
                    [
                      ['"channel"', '"a"'],
                      ['"message"', nested],
                    ],
                    false,
                  ),
                ],
              ],
              false,
            ),
          ),
        },
      ),
      fc.oneof(
        { weight: 12, arbitrary: fc.constant('none' as const) },
        { weight: 1, arbitrary: fc.constantFrom(...GARBLES) },
      ),
      fc.nat(),
      fc.constantFrom(...'{}[]",:\\0 \u0000é'),
    )
    .map(([text, how, at, char]) => garble(text, how, at, char));
}

export interface FrameOptions {
  /** MAX_MESSAGE_BYTES of the app under test. */
  readonly maxBytes: number;
  /** Favour near-JSON frames (for /ws/json). */
  readonly json: boolean;
  /** Tokens a refresh envelope may carry. */
  readonly tokens?: readonly string[];
}

/** Text frames an endpoint handles: any text, near-JSON, sizes up to the limit. */
export function messageFrame({
  maxBytes,
  json,
  tokens = [],
}: FrameOptions): fc.Arbitrary<FuzzFrame> {
  return fc.oneof(
    { weight: json ? 1 : 4, arbitrary: unicodeText.map(textOf('text')) },
    { weight: json ? 12 : 3, arbitrary: nearJson(tokens).map(textOf('near-json')) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: maxBytes }), fc.constantFrom('a', 'é', '€', '\u{1F680}'))
        .map(([size, fill]) => frame(`sized-${size}`, utf8OfSize(fill, size), false)),
    },
  );
}

/** Any frame a hostile or broken client might send, those that must close the socket included. */
export function fuzzFrame(options: FrameOptions): fc.Arbitrary<FuzzFrame> {
  return fragmented(
    fc.oneof(
      { weight: 4, arbitrary: messageFrame(options) },
      { weight: 1, arbitrary: binaryFrame },
      { weight: 1, arbitrary: bytesAsText },
      { weight: 1, arbitrary: invalidUtf8Text },
      { weight: 1, arbitrary: sizedFrame(options.maxBytes) },
    ),
  );
}

/**
 * A run's frames: messages, and in about half of the runs one frame of any kind at a random
 * place, which may close the socket. Runs that end early on a close would otherwise leave few
 * messages to test, as most random bytes are not UTF-8.
 */
export function fuzzFrames(
  options: FrameOptions,
  { minLength = 0, maxLength }: { minLength?: number; maxLength: number },
): fc.Arbitrary<FuzzFrame[]> {
  return fc
    .tuple(
      fc.array(fragmented(messageFrame(options)), { minLength, maxLength, size: 'max' }),
      fc.option(fuzzFrame(options), { freq: 2 }),
      fc.nat(),
    )
    .filter(([messages, extra]) => messages.length > 0 || extra !== null)
    .map(([messages, extra, at]) => {
      if (extra === null) return messages;
      const i = at % (messages.length + 1);
      return [...messages.slice(0, i), extra, ...messages.slice(i)];
    });
}
