import type { TestClient } from './ws-client';
import { WAIT_MS } from './wait';

/**
 * Helpers for the /ws/json protocol on top of TestClient. The expected shapes are written out
 * here as literals rather than imported from src/protocol: the tests pin the wire contract, so a
 * renamed constant must fail them.
 */

/** A request id: a string or a number, echoed on every direct reply. */
export type RequestId = string | number;

/** A reply as the server writes it: `{type, data, id?}`. */
export interface JsonFrame {
  readonly type: string;
  readonly data: unknown;
  readonly id?: RequestId;
}

/** The text of a request `{type, payload?, id?}`; an undefined payload or id is left out. */
export function envelope(type: string, payload?: unknown, id?: RequestId): string {
  return JSON.stringify({ type, payload, id });
}

export function sendRequest(
  client: TestClient,
  type: string,
  payload?: unknown,
  id?: RequestId,
): void {
  client.send(envelope(type, payload, id));
}

/** The next frame, parsed as JSON; fails on a frame that is not JSON, showing its text. */
export async function nextJson(client: TestClient, timeoutMs = WAIT_MS): Promise<unknown> {
  const text = await client.nextText(timeoutMs);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`Expected a JSON frame on ${client.url}, got ${JSON.stringify(text)}`);
  }
}

/** The next `count` frames, parsed as JSON, in arrival order. */
export async function nextJsons(
  client: TestClient,
  count: number,
  timeoutMs = WAIT_MS,
): Promise<unknown[]> {
  const frames: unknown[] = [];
  for (let i = 0; i < count; i++) frames.push(await nextJson(client, timeoutMs));
  return frames;
}

/** The expected reply `{type, data}`, with `id` only when given. */
export function reply(type: string, data: unknown, id?: RequestId): JsonFrame {
  return id === undefined ? { type, data } : { type, data, id };
}

/** The expected error reply `{"type":"error","data":{"message":…}}`, with `id` when given. */
export function errorFrame(message: string, id?: RequestId): JsonFrame {
  return reply('error', { message }, id);
}

/** What a subscriber of `channel` receives for a publish of `message` (never with an id). */
export function channelMessage(channel: string, message: unknown): JsonFrame {
  return reply('message', { channel, message });
}

/**
 * The expected "Validation failed" error: `errors` must be a non-empty list of `{field, message}`
 * strings and nothing else; with `field`, at least one entry's field must mention it.
 */
export function validationFailed(id?: RequestId, field?: string): JsonFrame {
  return reply('error', { message: 'Validation failed', errors: fieldErrors(field) }, id);
}

function fieldErrors(field?: string) {
  const isFieldError = (entry: unknown): entry is { field: string; message: string } =>
    typeof entry === 'object' &&
    entry !== null &&
    Object.keys(entry).sort().join() === 'field,message' &&
    typeof (entry as { field: unknown }).field === 'string' &&
    typeof (entry as { message: unknown }).message === 'string';
  const description =
    'a non-empty array of {field, message}' + (field ? ` with a field mentioning "${field}"` : '');
  // A hand-written asymmetric matcher: toEqual calls asymmetricMatch, and a failure prints the
  // description instead of the matcher's internals.
  return {
    $$typeof: Symbol.for('jest.asymmetricMatcher'),
    asymmetricMatch: (actual: unknown) =>
      Array.isArray(actual) &&
      actual.length > 0 &&
      actual.every(isFieldError) &&
      (field === undefined || actual.some((entry) => entry.field.includes(field))),
    toAsymmetricMatcher: () => description,
  };
}

/**
 * Proves that nothing else is on its way to `client` so far: sends a ping and expects its pong
 * as the very next frame. Replies and deliveries to one connection keep the order the server
 * wrote them in, so a frame written before the ping was handled would arrive first.
 */
export async function expectNothingElse(client: TestClient, id: RequestId = 'marker') {
  sendRequest(client, 'ping', undefined, id);
  expect(await nextJson(client)).toEqual(reply('pong', {}, id));
}
