import fc from 'fast-check';
import type { UpgradeOutcome } from './raw-upgrade';

/**
 * Upgrade request targets for property-based tests, each with the answer the routing contract
 * gives it (docs/protocol.md, README "Endpoints"): paths are split on "/", static segments match
 * literally and win, a parameter is percent-decoded on its own (one that cannot be decoded stays
 * raw) and is never a static word, parameters follow the id rule, and then the token rules apply.
 */

/** The id rule on the NFC form (docs/protocol.md, "Ids"), modelled apart from src/protocol/ids.ts. */
const ID_RULE = /^(?!\p{M})[\p{L}\p{M}\p{N}_.:@+-]{1,64}$/u;

/** The id a decoded parameter stands for, or undefined when it breaks the rule. */
function canonicalIdOf(param: string): string | undefined {
  const nfc = param.normalize('NFC');
  return ID_RULE.test(nfc) ? nfc : undefined;
}

/** Characters a path segment may carry unescaped (RFC 3986 pchar, without "%"). */
const PCHAR = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ...`-._~!$&'()*+,;=:@`,
];

/** Node refuses a request whose head (request line and headers) exceeds 16 KiB with 431. */
const MAX_HEAD_BYTES = 16 * 1024;

/** An upgrade target and the answer the contract gives it. */
export interface UpgradeCase {
  readonly target: string;
  readonly expected: UpgradeOutcome;
}

/** Tokens a query may carry: `valid` maps each valid token to its subject. */
export interface QueryTokens {
  readonly valid: ReadonlyMap<string, string>;
  /** Tokens that are valid in every respect but their `exp`. */
  readonly expired: readonly string[];
  /** Tokens that fail another check (signature, format). */
  readonly invalid: readonly string[];
}

type Route =
  | { readonly endpoint: 'echo' | 'json' | 'secure' }
  | { readonly endpoint: 'chat' | 'room' | 'subscribe'; readonly param: string };

const PARAM_LABELS = { chat: 'client_id', room: 'room_id', subscribe: 'channel' } as const;

const WORDS_AFTER_WS = ['room', 'subscribe', 'json', 'secure'];

/** The route of a list of raw (undecoded) segments, or undefined for a 404. */
function routeOf(segments: readonly string[]): Route | undefined {
  const [ws, second, third] = segments;
  if (ws !== 'ws') return undefined;
  if (segments.length === 1) return { endpoint: 'echo' };
  if (segments.length === 2) {
    if (second === 'json' || second === 'secure') return { endpoint: second };
    // Static words, escaped or not, are never a client id; "room" and "subscribe" have no
    // route of their own.
    if (second === '' || WORDS_AFTER_WS.includes(decodeSegment(second))) return undefined;
    return { endpoint: 'chat', param: decodeSegment(second) };
  }
  if (segments.length === 3 && (second === 'room' || second === 'subscribe') && third !== '') {
    return { endpoint: second, param: decodeSegment(third) };
  }
  return undefined;
}

function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The answer the contract gives an upgrade of `path` + `query` (query without "?"). */
export function expectedUpgrade(
  path: string,
  query: string | undefined,
  tokens: QueryTokens,
): UpgradeOutcome {
  const headBytes = 200 + path.length + (query?.length ?? 0);
  if (headBytes > MAX_HEAD_BYTES) return { kind: 'http', status: 431 };
  const segments = (path.startsWith('/') ? path.slice(1) : path).split('/');
  const route = routeOf(segments);
  if (!route) return { kind: 'http', status: 404 };
  const refused = (reason: string): UpgradeOutcome => ({ kind: 'upgraded', code: 1008, reason });
  const id = 'param' in route ? canonicalIdOf(route.param) : undefined;
  if ('param' in route && id === undefined) {
    return refused(`Invalid ${PARAM_LABELS[route.endpoint]}`);
  }
  const presented = new Set(new URLSearchParams(query ?? '').getAll('token'));
  presented.delete('');
  if (presented.size === 0) {
    return route.endpoint === 'secure'
      ? refused('Token missing')
      : { kind: 'upgraded', code: 1000, reason: '' };
  }
  const [token] = presented;
  if (presented.size === 1 && tokens.expired.includes(token)) return refused('Token expired');
  const subject = tokens.valid.get(token);
  if (presented.size > 1 || subject === undefined) return refused('Token invalid');
  if (route.endpoint === 'chat' && id !== subject.normalize('NFC')) {
    return refused('Client id does not match token subject');
  }
  return { kind: 'upgraded', code: 1000, reason: '' };
}

const hex = (byte: number, lower: boolean) => {
  const text = `%${byte.toString(16).padStart(2, '0')}`;
  return lower ? text : text.toUpperCase();
};

/** Equivalent ways to escape a segment: only what must be, like encodeURIComponent, or all. */
const ENCODINGS = ['minimal', 'component', 'all', 'all-lower'] as const;

/** `value` as a path segment, escaped in one of several equivalent ways. */
function encodeSegment(value: string, how: (typeof ENCODINGS)[number]): string {
  switch (how) {
    case 'component':
      return encodeURIComponent(value);
    case 'all':
    case 'all-lower':
      return [...Buffer.from(value, 'utf8')].map((byte) => hex(byte, how === 'all-lower')).join('');
    case 'minimal':
      return [...value]
        .map((char) =>
          PCHAR.includes(char)
            ? char
            : [...Buffer.from(char, 'utf8')].map((byte) => hex(byte, false)).join(''),
        )
        .join('');
  }
}

/** Segment values: the route words, dot segments, ids at and past 64 characters, any text. */
const segmentValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'ws',
      'room',
      'subscribe',
      'json',
      'secure',
      '',
      '.',
      '..',
      'a',
      'alice',
      'WS',
      'x'.repeat(64),
      'x'.repeat(65),
      'bob@example.com',
      'user+1',
      'café',
      'cafe\u0301',
      'e\u0301'.repeat(64),
      'e\u0301'.repeat(65),
      'हिन्दी',
      '\u0301a',
      'a\u202eb',
      'a\tb',
      'news*',
      '[a]',
      'a/b',
      '%',
      '?',
      '#',
    ),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:@+-]{1,70}$/) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...PCHAR), maxLength: 12 }) },
  // Long, but short enough that only the explicit long tail below crosses Node's head limit.
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 1000 }).map((n) => 'y'.repeat(n)) },
);

/** A segment written as is, whatever its escapes: malformed ones stay raw on the server. */
const malformedSegment = fc.constantFrom(
  '%',
  '%zz',
  '%4',
  'a%2',
  '%e9',
  '%C0%80',
  '%ED%A0%80',
  '%%41',
  '%u0041',
  '%2e%2E',
  '%2F',
  '%00',
);

const encoded = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.constantFrom(...ENCODINGS)).map(([v, how]) => encodeSegment(v, how));

const segment = fc.oneof(
  { weight: 5, arbitrary: encoded(segmentValue) },
  { weight: 1, arbitrary: malformedSegment },
);

/** A static segment of the routes, mostly as is, sometimes escaped (`%77s` is no longer "ws"). */
const word = (value: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(value) },
    { weight: 1, arbitrary: encoded(fc.constant(value)) },
  );

/** Path parameters: ids near the 64-character limit, and anything else a segment can be. */
const param = fc.oneof(
  { weight: 2, arbitrary: encoded(fc.stringMatching(/^[A-Za-z0-9_.:@+-]{60,70}$/)) },
  { weight: 4, arbitrary: segment },
);

/** The shapes of the routes, with any parameter: most runs reach the id and token rules. */
const routed = fc
  .oneof(
    fc.tuple(word('ws')),
    fc.tuple(word('ws'), param),
    fc.tuple(word('ws'), word('room'), param),
    fc.tuple(word('ws'), word('subscribe'), param),
    fc.tuple(word('ws'), word('json')),
    fc.tuple(word('ws'), word('secure')),
  )
  .map((segments): string[] => segments);

/** Any one to four segments, mostly under /ws. */
const freeForm = fc
  .tuple(
    fc.oneof({ weight: 6, arbitrary: word('ws') }, { weight: 1, arbitrary: segment }),
    fc.array(segment, { maxLength: 3 }),
  )
  .map(([first, rest]) => [first, ...rest]);

const path = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: routed }, { weight: 2, arbitrary: freeForm }),
    fc.oneof(
      { weight: 9, arbitrary: fc.constant('') },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 17_000, max: 30_000 }).map((n) => '/z'.repeat(n / 2)),
      },
    ),
  )
  .map(([segments, tail]) => `/${segments.join('/')}${tail}`);

function query(tokens: QueryTokens) {
  const value = fc.oneof(
    fc.constantFrom(...tokens.valid.keys(), ...tokens.expired, ...tokens.invalid, ''),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const name = fc.constantFrom('token', 'token', 'Token', 'x', 'token ', 'a b');
  return fc
    .array(fc.tuple(name, value), { maxLength: 3 })
    .map((pairs) =>
      pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
    );
}

/** Request targets built from segments, each with the contract's answer. */
export function upgradeCase(tokens: QueryTokens): fc.Arbitrary<UpgradeCase> {
  return fc.tuple(path, fc.option(query(tokens), { freq: 2 })).map(([p, q]) => ({
    target: q === null ? p : `${p}?${q}`,
    expected: expectedUpgrade(p, q ?? undefined, tokens),
  }));
}

/**
 * Request targets of arbitrary bytes after a "/" (spaces, CR LF, control and non-ASCII bytes
 * included), for which only the kind of answer is known.
 */
export const wildTarget: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.constantFrom('/', '/ws', '/ws/', '/ws/room/', '/ws/subscribe/', '/ws/json', ''),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([prefix, bytes]) => Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(bytes)]));

/** Close reasons the server may give a socket it refuses at the upgrade. */
export const REFUSAL_REASONS = [
  'Invalid client_id',
  'Invalid room_id',
  'Invalid channel',
  'Token missing',
  'Token invalid',
  'Token expired',
  'Client id does not match token subject',
];
