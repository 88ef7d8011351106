import { payloadBreach, type PayloadBounds } from '../limits/payload-limits';
import type { BusMessage, JsonValue } from './bus';

/**
 * The wire format of a bus message between instances, version 1:
 *
 *     {"v":1,"origin":"<instance>","sender":"<connection id>","skipSender":true,"data":<json>}
 *
 * `origin` lets an instance ignore its own messages coming back from Redis (it delivered them
 * locally already). `sender` and `skipSender` are present only when set, as on BusMessage. The
 * topic is not in the envelope: the Redis channel carries it. Readers ignore fields they do not
 * know, so a later v1 writer may add optional fields; anything incompatible takes a new `v`.
 */
export const ENVELOPE_VERSION = 1;

export interface Envelope {
  readonly v: typeof ENVELOPE_VERSION;
  /** Instance id of the publisher. */
  readonly origin: string;
  readonly sender?: string;
  readonly skipSender?: boolean;
  readonly data: JsonValue;
}

/** Why an envelope was refused; stable, so it can label a counter. */
export type EnvelopeError =
  'invalid-json' | 'not-an-object' | 'unknown-version' | 'invalid-field' | 'too-deep' | 'too-wide';

export type DecodeResult =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly error: EnvelopeError };

/** Encodes `message` as published by instance `origin`: one JSON.stringify, nothing else. */
export function encodeEnvelope(origin: string, message: BusMessage): string {
  const envelope: Envelope = {
    v: ENVELOPE_VERSION,
    origin,
    sender: message.sender,
    skipSender: message.skipSender || undefined,
    data: message.data,
  };
  // JSON.stringify leaves out the undefined fields.
  return JSON.stringify(envelope);
}

/**
 * Decodes what another instance (or anything else with access to the channel) published. Never
 * throws: anything that is not a well-formed v1 envelope comes back as an error. `data` is held
 * to the bounds of a client payload (`bounds`, default MAX_PAYLOAD_DEPTH and MAX_PAYLOAD_ENTRIES): deeper is refused as `too-deep` (JSON.parse
 * reads any depth, but the JSON.stringify of each delivery would throw on it), more keys and
 * array elements as `too-wide`.
 */
export function decodeEnvelope(raw: string, bounds?: PayloadBounds): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // The cause is useless to a caller: the payload is not JSON, whatever the parser's complaint.
    return refused('invalid-json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refused('not-an-object');
  }
  const { v, origin, sender, skipSender, data } = value as Record<string, unknown>;
  if (v !== ENVELOPE_VERSION) return refused('unknown-version');
  if (
    typeof origin !== 'string' ||
    origin === '' ||
    (sender !== undefined && typeof sender !== 'string') ||
    (skipSender !== undefined && typeof skipSender !== 'boolean') ||
    data === undefined
  ) {
    return refused('invalid-field');
  }
  const breach = payloadBreach(data, bounds);
  if (breach !== undefined) return refused(breach === 'depth' ? 'too-deep' : 'too-wide');
  // Whatever JSON.parse returned for `data` is a JsonValue by construction.
  return {
    ok: true,
    envelope: { v, origin, sender, skipSender, data: data as JsonValue },
  };
}

function refused(error: EnvelopeError): DecodeResult {
  return { ok: false, error };
}
