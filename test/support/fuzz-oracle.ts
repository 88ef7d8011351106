import { shorten } from './ws-client';

/**
 * The wire contract as an executable model, for property-based tests: given the text messages a
 * client sent to one endpoint, which frames each of the session's sockets must receive. The
 * strings are written out here, not imported from src/protocol, so that a renamed constant fails
 * the tests (as in json-client.ts).
 */

/** One frame a named socket of the session must receive. */
export interface Expected {
  readonly socket: string;
  readonly show: string;
  test(text: string): boolean;
}

export function exactly(socket: string, text: string): Expected {
  return { socket, show: JSON.stringify(shorten(text)), test: (actual) => actual === text };
}

/** A JSON frame equal to `value`, key order aside (-0 and 0 are the same on the wire). */
export function jsonEqual(socket: string, value: unknown): Expected {
  const expected = canonicalJson(value);
  return {
    socket,
    show: shorten(expected, 200),
    test: (actual) => {
      const parsed = parseJson(actual);
      return parsed.ok && canonicalJson(parsed.value) === expected;
    },
  };
}

/** A JSON frame `{type, data, id?}` passing `check`, described by `show`. */
export function jsonWhere(
  socket: string,
  show: string,
  check: (value: unknown) => boolean,
): Expected {
  return {
    socket,
    show,
    test: (actual: string) => {
      const parsed = parseJson(actual);
      return parsed.ok && check(parsed.value);
    },
  };
}

/**
 * A JSON text with sorted keys, built as a string: no object is created from parsed keys, so a
 * `__proto__` key stays a key and never becomes a prototype.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * What an endpoint does with the text messages of one sending socket. `S` is the model's state
 * (what the connection has subscribed to, for instance).
 */
export interface SessionModel<S = unknown> {
  readonly initial: S;
  /** The frames the server sends when it handles `text` in `state`, and the state after. */
  handled(text: string, state: S): { readonly frames: readonly Expected[]; readonly next: S };
  /** The error the sender gets when `text` is over the rate limit (and not handled). */
  limited(text: string): Expected;
}

const SENDER = 'sender';
const TEXT_RATE_LIMITED = { error: 'Rate limit exceeded' };

/** A text endpoint whose every handled message yields `frames(text)`; no state. */
function textModel(frames: (text: string) => Expected[]): SessionModel<null> {
  return {
    initial: null,
    handled: (text) => ({ frames: frames(text), next: null }),
    limited: () => jsonEqual(SENDER, TEXT_RATE_LIMITED),
  };
}

export const TextModels = {
  /** `/ws`: "Echo: T" to the sender. */
  echo: () => textModel((text) => [exactly(SENDER, `Echo: ${text}`)]),
  /** `/ws/secure`: "Hello {name}: T" to the sender. */
  secure: (name: string) => textModel((text) => [exactly(SENDER, `Hello ${name}: ${text}`)]),
  /** `/ws/{client_id}`: "Client {id}: T" to every chat socket, the sender included. */
  chat: (clientId: string, peers: readonly string[]) =>
    textModel((text) =>
      [SENDER, ...peers].map((socket) => exactly(socket, `Client ${clientId}: ${text}`)),
    ),
  /** `/ws/subscribe/{channel}`: T to every subscriber, the sender included. */
  subscribe: (peers: readonly string[]) =>
    textModel((text) => [SENDER, ...peers].map((socket) => exactly(socket, text))),
  /** `/ws/room/{room_id}`: T to every other member, never to the sender. */
  room: (peers: readonly string[]) =>
    textModel((text) => peers.map((socket) => exactly(socket, text))),
};

/** What a token offered in a `refresh` is, as far as the session's subject is concerned. */
export type TokenKind =
  | { readonly kind: 'same-subject'; readonly exp: number }
  | { readonly kind: 'other-subject' }
  | { readonly kind: 'expired' };

export interface JsonState {
  readonly subscriptions: ReadonlySet<string>;
}

type RequestId = string | number;

/** Channels one /ws/json connection may hold at once. */
const MAX_SUBSCRIPTIONS = 100;
/** The id rule on the NFC form (docs/protocol.md, "Ids"). */
const ID_RULE = /^(?!\p{M})[\p{L}\p{M}\p{N}_.:@+-]{1,64}$/u;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const own = (record: Record<string, unknown>, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;

/** A usable request id: a string or a finite number; anything else is no id. */
function requestIdOf(value: unknown): RequestId | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = own(value as Record<string, unknown>, 'id');
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

function reply(type: string, data: unknown, id?: RequestId): Expected {
  return jsonEqual(SENDER, id === undefined ? { type, data } : { type, data, id });
}

const error = (message: string, id?: RequestId) => reply('error', { message }, id);

/** "Validation failed" with a non-empty list of `{field, message}` strings, and `id` if any. */
function validationFailed(id?: RequestId): Expected {
  const isFieldError = (entry: unknown) =>
    isRecord(entry) &&
    Object.keys(entry).sort().join() === 'field,message' &&
    typeof entry.field === 'string' &&
    typeof entry.message === 'string';
  return jsonWhere(
    SENDER,
    `{"type":"error","data":{"message":"Validation failed","errors":[…]}${
      id === undefined ? '' : `,"id":${JSON.stringify(id)}`
    }}`,
    (value) => {
      if (!isRecord(value) || !isRecord(value.data)) return false;
      const keys = Object.keys(value).sort().join();
      const { data } = value;
      return (
        keys === (id === undefined ? 'data,type' : 'data,id,type') &&
        value.type === 'error' &&
        (id === undefined || canonicalJson(value.id) === canonicalJson(id)) &&
        Object.keys(data).sort().join() === 'errors,message' &&
        data.message === 'Validation failed' &&
        Array.isArray(data.errors) &&
        data.errors.length > 0 &&
        data.errors.every(isFieldError)
      );
    },
  );
}

/**
 * The payload's channel, in the NFC form the server uses and echoes, when the payload is an
 * object whose `channel` follows the id rule.
 */
function channelOf(payload: unknown): string | undefined {
  if (!isRecord(payload)) return undefined;
  const channel = own(payload, 'channel');
  if (typeof channel !== 'string') return undefined;
  const nfc = channel.normalize('NFC');
  return ID_RULE.test(nfc) ? nfc : undefined;
}

/**
 * What a text endpoint (`/ws/subscribe/{channel}`) receives for a JSON publish: a string as
 * itself, any other value as JSON text; either way as UTF-8, so a lone surrogate arrives as
 * U+FFFD.
 */
function asTextFrame(message: unknown): string {
  const text = typeof message === 'string' ? message : JSON.stringify(message);
  return Buffer.from(text, 'utf8').toString('utf8');
}

export interface JsonModelOptions {
  /** Whether the connection presented a token at the upgrade. */
  readonly authenticated: boolean;
  /** What each token a refresh may carry is; any other string is an invalid token. */
  readonly tokens: ReadonlyMap<string, TokenKind>;
  /** Peers subscribed to a channel through /ws/subscribe/{channel}: channel → socket name. */
  readonly textSubscribers: ReadonlyMap<string, string>;
}

const PAYLOAD_TYPES = new Set(['subscribe', 'unsubscribe', 'publish', 'refresh']);

/** Levels of objects and arrays: 0 for a primitive, 1 for `{}` or `[]`, 2 for `[[]]`… */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

/** Object keys plus array elements, at every level. */
function entriesOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let entries = 0;
  for (const child of Object.values(value)) entries += 1 + entriesOf(child);
  return entries;
}

/**
 * `/ws/json` for one connection: the envelope rules, then each request type's payload rules
 * (docs/protocol.md §5), and the deliveries of its publishes to the session's text subscribers.
 */
export function jsonModel({
  authenticated,
  tokens,
  textSubscribers,
}: JsonModelOptions): SessionModel<JsonState> {
  const handled = (text: string, state: JsonState) => {
    const same = (frames: Expected[]) => ({ frames, next: state });
    const parsed = parseJson(text);
    if (!parsed.ok) return same([error('Invalid JSON')]);
    const message = parsed.value;
    if (!isRecord(message)) return same([validationFailed()]);
    const type = own(message, 'type');
    const rawId = own(message, 'id');
    const id = requestIdOf(message);
    if (typeof type !== 'string' || type === '' || (rawId !== undefined && id === undefined)) {
      return same([validationFailed(id)]);
    }
    const payload = own(message, 'payload');
    const subscriptions = state.subscriptions;
    // The types that validate a payload refuse one nested past 32 levels, or with more than
    // 10,000 keys and array elements in total, before anything else.
    if (PAYLOAD_TYPES.has(type) && (depthOf(payload) > 32 || entriesOf(payload) > 10_000)) {
      return same([validationFailed(id)]);
    }
    switch (type) {
      case 'ping':
        return same([reply('pong', {}, id)]);
      case 'pong':
        return same([]);
      case 'subscribe': {
        const channel = channelOf(payload);
        if (channel === undefined) return same([validationFailed(id)]);
        if (!subscriptions.has(channel) && subscriptions.size >= MAX_SUBSCRIPTIONS) {
          return same([error('Too many subscriptions', id)]);
        }
        return {
          frames: [reply('subscribed', { channel }, id)],
          next: { subscriptions: new Set([...subscriptions, channel]) },
        };
      }
      case 'unsubscribe': {
        const channel = channelOf(payload);
        if (channel === undefined) return same([validationFailed(id)]);
        const remaining = new Set(subscriptions);
        remaining.delete(channel);
        return {
          frames: [reply('unsubscribed', { channel }, id)],
          next: { subscriptions: remaining },
        };
      }
      case 'publish': {
        const channel = channelOf(payload);
        const published = isRecord(payload) ? own(payload, 'message') : undefined;
        if (channel === undefined || published === undefined) return same([validationFailed(id)]);
        const delivery = subscriptions.has(channel)
          ? [reply('message', { channel, message: published })]
          : [];
        const subscriber = textSubscribers.get(channel);
        if (subscriber !== undefined) delivery.push(exactly(subscriber, asTextFrame(published)));
        return same([...delivery, reply('published', { channel }, id)]);
      }
      case 'refresh': {
        const token = isRecord(payload) ? own(payload, 'token') : undefined;
        if (typeof token !== 'string' || token === '') return same([validationFailed(id)]);
        if (!authenticated) return same([error('Not authenticated', id)]);
        const kind = tokens.get(token);
        if (kind === undefined) return same([error('Token invalid', id)]);
        if (kind.kind === 'other-subject') return same([error('Token subject does not match', id)]);
        if (kind.kind === 'expired') return same([error('Token expired', id)]);
        return same([reply('refreshed', { exp: kind.exp }, id)]);
      }
      default:
        return same([error('Unknown type', id)]);
    }
  };
  return {
    initial: { subscriptions: new Set() },
    handled,
    limited: (text) => {
      const parsed = parseJson(text);
      return error('Rate limit exceeded', parsed.ok ? requestIdOf(parsed.value) : undefined);
    },
  };
}

export interface AnswerCheck {
  /** The text messages the sender sent that reached the endpoint, in order. */
  readonly texts: readonly string[];
  /** What each socket of the session received, by name ("sender" and the peers). */
  readonly received: ReadonlyMap<string, readonly string[]>;
  /**
   * The server closed the sender after the last of `texts` (a binary, oversized or non-UTF-8
   * frame followed them). Messages still queued then are never handled, and the one being
   * handled may have reached only some sockets: what arrived must be a prefix of the answers.
   */
  readonly closedAfter: boolean;
  /** Any message may have been refused by the rate limiter instead of handled. */
  readonly rateLimited: boolean;
}

/** The outcome of checkAnswers: how many messages the rate limiter refused, or what went wrong. */
export type AnswerVerdict =
  { readonly ok: true; readonly refused: number } | { readonly ok: false; readonly report: string };

/**
 * Whether what the sockets received is exactly what the model says for the messages sent: in
 * order on each socket, nothing missing, nothing extra. With `rateLimited`, every message is
 * either handled or refused, and the search tries both. When no reading fits, the report shows
 * where the best attempt diverged.
 */
export function checkAnswers<S>(model: SessionModel<S>, check: AnswerCheck): AnswerVerdict {
  const { texts, received, closedAfter, rateLimited } = check;
  const sockets = [...received.keys()];
  let deepest = { index: -1, note: '' };

  const consumedAll = (positions: ReadonlyMap<string, number>) =>
    sockets.every((socket) => positions.get(socket) === received.get(socket)!.length);

  /** Takes `frames` in order from the positions; says which one did not match, if one. */
  const take = (positions: ReadonlyMap<string, number>, frames: readonly Expected[]) => {
    const next = new Map(positions);
    for (const frame of frames) {
      const at = next.get(frame.socket) ?? 0;
      const actual = received.get(frame.socket)?.[at];
      if (actual === undefined || !frame.test(actual)) {
        return { ok: false as const, frame, actual };
      }
      next.set(frame.socket, at + 1);
    }
    return { ok: true as const, positions: next };
  };

  /** Whether the rest of each stream is a prefix of that socket's share of `frames`. */
  const restIsPrefixOf = (positions: ReadonlyMap<string, number>, frames: readonly Expected[]) =>
    sockets.every((socket) => {
      const rest = received.get(socket)!.slice(positions.get(socket));
      const share = frames.filter((frame) => frame.socket === socket);
      return rest.length <= share.length && rest.every((text, i) => share[i].test(text));
    });

  const note = (index: number, positions: ReadonlyMap<string, number>, what: string) => {
    if (index < deepest.index) return;
    const at = sockets.map((socket) => `${socket}@${positions.get(socket)}`).join(' ');
    deepest = { index, note: `message #${index} (${at}): ${what}` };
  };

  /** The number of refusals of a reading of messages `index`… that fits, or undefined. */
  const search = (
    index: number,
    positions: ReadonlyMap<string, number>,
    state: S,
  ): number | undefined => {
    if (consumedAll(positions) && (closedAfter || index === texts.length)) return 0;
    if (index === texts.length) {
      note(index, positions, 'frames arrived after the answers to every message');
      return undefined;
    }
    const text = texts[index];
    const { frames, next } = model.handled(text, state);
    const handled = take(positions, frames);
    if (handled.ok) {
      const rest = search(index + 1, handled.positions, next);
      if (rest !== undefined) return rest;
    } else {
      const got =
        handled.actual === undefined ? 'nothing' : JSON.stringify(shorten(handled.actual, 200));
      note(
        index,
        positions,
        `expected ${handled.frame.show} on ${handled.frame.socket}, got ${got}`,
      );
    }
    // The message being handled when the socket closed may have reached only some sockets.
    if (closedAfter && restIsPrefixOf(positions, frames)) return 0;
    if (rateLimited) {
      const refused = take(positions, [model.limited(text)]);
      if (refused.ok) {
        const rest = search(index + 1, refused.positions, state);
        if (rest !== undefined) return rest + 1;
      }
    }
    return undefined;
  };

  const start = new Map(sockets.map((socket) => [socket, 0]));
  const refused = search(0, start, model.initial);
  if (refused !== undefined) return { ok: true, refused };
  const streams = sockets.map(
    (socket) =>
      `  ${socket}: [${received
        .get(socket)!
        .map((text) => JSON.stringify(shorten(text, 160)))
        .join(', ')}]`,
  );
  const sent = texts.map((text, i) => `  #${i}: ${JSON.stringify(shorten(text, 160))}`);
  return {
    ok: false,
    report: [
      `The answers do not match the contract; first divergence at ${deepest.note}`,
      'Messages handled by the endpoint:',
      ...sent,
      'Frames received:',
      ...streams,
    ].join('\n'),
  };
}
