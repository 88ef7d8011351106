import { ConnectionRegistry } from '../../src/connections/connection-registry';
import type { RunningApp } from './app';
import { piecesOf, verdictOf, type FuzzFrame } from './fuzz-frames';
import {
  canonicalJson,
  checkAnswers,
  jsonModel,
  parseJson,
  TextModels,
  type SessionModel,
  type TokenKind,
} from './fuzz-oracle';
import { ClientGroup, jsonIdOf, TestClient, type Closed } from './ws-client';
import { waitForValue } from './wait';

/**
 * One fuzz run on one endpoint: a sending socket and the peers that see its messages (the other
 * chat socket, room members, channel subscribers), the contract's model of what each receives,
 * and how to know that every answer has arrived.
 */

/** The endpoints as the fuzz tests drive them; /ws/json once without and once with a token. */
export const FUZZ_ENDPOINTS = [
  'echo',
  'chat',
  'room',
  'subscribe',
  'secure',
  'json',
  'json-authenticated',
] as const;
export type FuzzEndpoint = (typeof FUZZ_ENDPOINTS)[number];

/** What a session needs to know about the app under test. */
export interface FuzzTarget {
  readonly running: RunningApp;
  readonly maxBytes: number;
  /** A valid token for the subject the secure and authenticated JSON sockets connect as. */
  readonly sessionToken: string;
  /** The name in `sessionToken`. */
  readonly name: string;
  /** Tokens a refresh may carry, and what each is to the session's subject. */
  readonly tokens: ReadonlyMap<string, TokenKind>;
  /** How long any single wait may take. */
  readonly waitMs: number;
}

interface Session {
  readonly group: ClientGroup;
  readonly sender: TestClient;
  /** Every socket of the session by name, the sender as "sender". */
  readonly sockets: ReadonlyMap<string, TestClient>;
  readonly model: SessionModel<unknown>;
  /** A message whose answer, once received, proves that earlier messages were answered. */
  marker(n: number): string;
  /** Whether the answers to the first `count` messages have arrived, `marker` being the last. */
  answered(count: number, marker: string): boolean;
  /**
   * Once the sender's messages are answered or the sender is closed: makes sure every peer has
   * received all it will, and returns frames the test itself caused (flush markers, departures)
   * so they can be told apart from answers.
   */
  settle(senderClosed: boolean): Promise<Settled>;
}

interface Settled {
  /** Frames caused by the test's own peers, removed from the streams before the check. */
  readonly ignore: (socket: string, text: string) => boolean;
  /** Frames that must end a socket's stream, after the answers (e.g. "Client x left"). */
  readonly trailers: ReadonlyMap<string, readonly string[]>;
}

const NOTHING_SETTLED: Settled = { ignore: () => false, trailers: new Map() };
const ignoring =
  (texts: readonly string[]) =>
  (_socket: string, text: string): boolean =>
    texts.includes(text);

async function openSession(
  target: FuzzTarget,
  endpoint: FuzzEndpoint,
  tag: string,
): Promise<Session> {
  const group = new ClientGroup();
  const base = target.running.wsUrl;
  const open = (path: string) =>
    TestClient.open(`${base}${path}`, { group, timeoutMs: target.waitMs });
  const until = (condition: () => boolean, what: string, sockets: Map<string, TestClient>) =>
    group.until(condition, what, target.waitMs, () => describeAll(sockets));
  const connections = target.running.app.get(ConnectionRegistry);
  const textMarker = (n: number) => `marker ${tag}.${n}`;

  switch (endpoint) {
    case 'echo':
    case 'secure': {
      const path = endpoint === 'echo' ? '/ws' : `/ws/secure?token=${target.sessionToken}`;
      const sender = await open(path);
      return {
        group,
        sender,
        sockets: new Map([['sender', sender]]),
        model: endpoint === 'echo' ? TextModels.echo() : TextModels.secure(target.name),
        marker: textMarker,
        answered: (count) => sender.texts.length >= count,
        settle: () => Promise.resolve(NOTHING_SETTLED),
      };
    }
    case 'json':
    case 'json-authenticated': {
      // A text subscriber of channel "a" sees what the JSON socket publishes there.
      const path = endpoint === 'json' ? '/ws/json' : `/ws/json?token=${target.sessionToken}`;
      const sender = await open(path);
      const sub = await open('/ws/subscribe/a');
      const sockets = new Map([
        ['sender', sender],
        ['sub', sub],
      ]);
      const flush = `flush ${tag}`;
      return {
        group,
        sender,
        sockets,
        model: jsonModel({
          authenticated: endpoint === 'json-authenticated',
          tokens: target.tokens,
          textSubscribers: new Map([['a', 'sub']]),
        }),
        marker: (n) => JSON.stringify({ type: 'ping', id: textMarker(n) }),
        answered: (_count, marker) => {
          const id = (JSON.parse(marker) as { id: string }).id;
          return sender.texts.some((text) => jsonIdOf(text) === id);
        },
        settle: async () => {
          sub.sendText(flush);
          await until(() => sub.texts.includes(flush), `the flush of run ${tag}`, sockets);
          // The flush also reaches the JSON socket if it subscribed to "a".
          const delivery = canonicalJson({
            type: 'message',
            data: { channel: 'a', message: flush },
          });
          const isFlush = (socket: string, text: string) => {
            if (socket === 'sub') return text === flush;
            const parsed = parseJson(text);
            return parsed.ok && canonicalJson(parsed.value) === delivery;
          };
          return { ignore: isFlush, trailers: new Map() };
        },
      };
    }
    case 'chat':
    case 'subscribe': {
      // Chat is one lobby for every chat socket: fuzz runs never overlap, so these two are alone.
      const [senderPath, peerPath] =
        endpoint === 'chat'
          ? [`/ws/s-${tag}`, `/ws/p-${tag}`]
          : [`/ws/subscribe/c-${tag}`, `/ws/subscribe/c-${tag}`];
      const sender = await open(senderPath);
      const peer = await open(peerPath);
      const sockets = new Map([
        ['sender', sender],
        ['peer', peer],
      ]);
      const flush = `flush ${tag}`;
      const flushed = endpoint === 'chat' ? `Client p-${tag}: ${flush}` : flush;
      return {
        group,
        sender,
        sockets,
        model:
          endpoint === 'chat'
            ? TextModels.chat(`s-${tag}`, ['peer'])
            : TextModels.subscribe(['peer']),
        marker: textMarker,
        answered: (count) => sender.texts.length >= count,
        settle: async (senderClosed) => {
          // A departure is announced when the server has processed the close; wait for that so
          // the announcement comes before the flush.
          if (senderClosed) {
            await waitForValue(
              () => connections.countFor(endpoint),
              1,
              `the server to drop the closed ${endpoint} sender`,
              target.waitMs,
            );
          }
          peer.sendText(flush);
          await until(
            () => peer.texts.includes(flushed) && (senderClosed || sender.texts.includes(flushed)),
            `the flush of run ${tag}`,
            sockets,
          );
          const trailers = new Map<string, string[]>();
          if (senderClosed && endpoint === 'chat') trailers.set('peer', [`Client s-${tag} left`]);
          return { ignore: ignoring([flushed]), trailers };
        },
      };
    }
    case 'room': {
      const path = `/ws/room/r-${tag}`;
      const sender = await open(path);
      const a = await open(path);
      const b = await open(path);
      const sockets = new Map([
        ['sender', sender],
        ['a', a],
        ['b', b],
      ]);
      const [flushA, flushB] = [`flush ${tag} a`, `flush ${tag} b`];
      return {
        group,
        sender,
        sockets,
        model: TextModels.room(['a', 'b']),
        marker: textMarker,
        // A handled message reaches the peers, a refused one gets the sender an error.
        answered: (count) => sender.texts.length + a.texts.length >= count,
        settle: async (senderClosed) => {
          b.sendText(flushB);
          await until(() => a.texts.includes(flushB), `the flush of a in run ${tag}`, sockets);
          a.sendText(flushA);
          await until(
            () =>
              b.texts.includes(flushA) &&
              (senderClosed || (sender.texts.includes(flushA) && sender.texts.includes(flushB))),
            `the flush of b in run ${tag}`,
            sockets,
          );
          return { ignore: ignoring([flushA, flushB]), trailers: new Map() };
        },
      };
    }
  }
}

function describeAll(sockets: ReadonlyMap<string, TestClient>): string {
  return [...sockets].map(([name, socket]) => `${name} ${socket.describe()}`).join('; ');
}

/** How a fuzz run sends its frames. */
export interface RunOptions {
  /**
   * After each handled message, wait for its answer before sending the next (one message in
   * flight). Otherwise all frames go out at once and queue up on the server.
   */
  readonly paced: boolean;
  /** The app runs with a rate limit that frames can hit: any message may be refused instead. */
  readonly rateLimited: boolean;
}

/**
 * What a series of runs exercised: the closes the server sent and the kinds of frames it
 * answered with. A test asserts on it so that a generator that stops producing some input (and
 * so a property that quietly stops testing it) fails instead of passing.
 */
export class FuzzCoverage {
  readonly closes = new Map<number, number>();
  /** Frames received by kind: a JSON `type` (`error: <message>` for errors) or "text". */
  readonly answers = new Map<string, number>();
  messages = 0;
  /** Messages the rate limiter refused. */
  refused = 0;

  record(
    close: number | undefined,
    messages: number,
    refused: number,
    received: Iterable<string>,
  ): void {
    if (close !== undefined) this.closes.set(close, (this.closes.get(close) ?? 0) + 1);
    this.messages += messages;
    this.refused += refused;
    for (const text of received) {
      const kind = kindOf(text);
      this.answers.set(kind, (this.answers.get(kind) ?? 0) + 1);
    }
  }

  toString(): string {
    const list = (map: Map<unknown, number>) =>
      [...map].map(([key, count]) => `${String(key)}: ${count}`).join(', ');
    return `${this.messages} messages (${this.refused} refused); closes {${list(this.closes)}}; answers {${list(this.answers)}}`;
  }
}

function kindOf(text: string): string {
  const parsed = parseJson(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return 'text';
  const { type, data, error } = parsed.value as { type?: unknown; data?: unknown; error?: unknown };
  if (typeof error === 'string') return `error: ${error}`;
  if (type === 'error') return `error: ${String((data as { message?: unknown } | null)?.message)}`;
  return typeof type === 'string' ? type : 'text';
}

let runs = 0;

/**
 * Sends `frames` from a fresh session on `endpoint` and checks everything every socket of the
 * session received against the contract: the answers of the model for each handled message, in
 * order, nothing else; the documented close (code and reason) for the first frame that must
 * close the socket, and no close otherwise. Throws with a report on any difference. Every socket
 * is closed before it returns.
 */
export async function runFuzzSession(
  target: FuzzTarget,
  endpoint: FuzzEndpoint,
  frames: readonly FuzzFrame[],
  { paced, rateLimited }: RunOptions,
  coverage?: FuzzCoverage,
): Promise<void> {
  const connections = target.running.app.get(ConnectionRegistry);
  await waitForValue(() => connections.size, 0, 'the previous run to close', target.waitMs);
  const tag = `${++runs}`;
  const session = await openSession(target, endpoint, tag);
  const { sender, sockets, group } = session;
  try {
    const texts: string[] = [];
    let closing: { code: number; reason: string } | undefined;
    let markers = 0;
    const sendMarker = async () => {
      const marker = session.marker(markers++);
      sender.sendText(marker);
      texts.push(marker);
      await group.until(
        () => session.answered(texts.length, marker),
        `the answer to ${marker}`,
        target.waitMs,
        () => describeAll(sockets),
      );
    };

    for (const frame of frames) {
      const verdict = verdictOf(frame, target.maxBytes);
      sender.sendBytes(piecesOf(frame), frame.binary);
      if (!verdict.handled) {
        closing ??= { code: verdict.code, reason: verdict.reason };
        if (paced) break;
      } else if (!closing) {
        // Text after the closing frame is sent too, but the server must never handle it.
        texts.push(verdict.text);
        if (paced) await sendMarker();
      }
    }

    if (closing) {
      const closed = await sender.waitClosed(target.waitMs);
      expectClose(closed, closing, `the sender's close (${describeAll(sockets)})`);
    } else {
      await sendMarker();
    }
    const { ignore, trailers } = await session.settle(closing !== undefined);

    const received = new Map<string, string[]>();
    for (const [name, socket] of sockets) {
      if (socket !== sender && socket.closeStatus) {
        throw new Error(`The server closed peer ${name}: ${describeAll(sockets)}`);
      }
      if (socket.binaryFrames > 0) throw new Error(`${name} received a binary frame`);
      const stream = socket.texts.filter((text) => !ignore(name, text));
      const trailer = trailers.get(name) ?? [];
      const tail = stream.splice(stream.length - trailer.length, trailer.length);
      if (trailer.length && JSON.stringify(tail) !== JSON.stringify(trailer)) {
        throw new Error(`${name} should end with ${JSON.stringify(trailer)}: ${socket.describe()}`);
      }
      received.set(name, stream);
    }
    if (!closing && sender.closeStatus) {
      throw new Error(`The server closed the sender: ${describeAll(sockets)}`);
    }
    const verdict = checkAnswers(session.model, {
      texts,
      received,
      closedAfter: closing !== undefined,
      rateLimited,
    });
    if (!verdict.ok) throw new Error(verdict.report);
    coverage?.record(closing?.code, texts.length, verdict.refused, [...received.values()].flat());

    // The server echoes a client's close: 1000 back for ours.
    for (const [name, socket] of sockets) {
      if (socket.closeStatus) continue;
      await socket.close(target.waitMs, 1000);
      expectClose(socket.closeStatus!, { code: 1000, reason: '' }, `the polite close of ${name}`);
    }
  } finally {
    for (const socket of sockets.values()) socket.terminate();
  }
}

function expectClose(actual: Closed, expected: Closed, what: string): void {
  if (actual.code !== expected.code || actual.reason !== expected.reason) {
    throw new Error(
      `Expected ${what} to be ${expected.code} "${expected.reason}", ` +
        `got ${actual.code} "${actual.reason}"`,
    );
  }
}
