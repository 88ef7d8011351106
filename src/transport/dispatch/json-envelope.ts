import type { JsonValue } from '../../bus/bus';
import {
  JsonErrorMessage,
  jsonError,
  requestIdOf,
  type JsonReply,
  type RequestId,
} from '../../protocol/json-messages';

/** A request on /ws/json: `{type, payload?, id?}`. */
export interface JsonEnvelope {
  readonly type: string;
  readonly payload?: unknown;
  readonly id?: RequestId;
}

/** One entry of a "Validation failed" error's `errors` list. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export type EnvelopeResult =
  | { readonly ok: true; readonly envelope: JsonEnvelope }
  | { readonly ok: false; readonly error: JsonReply };

/**
 * Parses and checks the envelope of a /ws/json frame. The envelope is checked by hand (a few
 * typeof tests, no allocation on success) because it runs on every frame; each type's payload
 * is then validated by its class-validator DTO in the gateway.
 */
export function decodeEnvelope(text: string): EnvelopeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: jsonError(JsonErrorMessage.invalidJson) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(undefined, [{ field: '', message: 'message must be a JSON object' }]);
  }
  const { type, id } = value as { type?: unknown; id?: unknown };
  const requestId = requestIdOf(value);
  if (typeof type === 'string' && type !== '' && (id === undefined || requestId !== undefined)) {
    return { ok: true, envelope: value as JsonEnvelope };
  }
  const errors: FieldError[] = [];
  if (typeof type !== 'string' || type === '') {
    errors.push({ field: 'type', message: 'type must be a non-empty string' });
  }
  if (id !== undefined && requestId === undefined) {
    errors.push({ field: 'id', message: 'id must be a string or a number' });
  }
  return invalid(requestId, errors);
}

function invalid(id: RequestId | undefined, errors: FieldError[]): EnvelopeResult {
  return {
    ok: false,
    error: jsonError(JsonErrorMessage.validationFailed, id, errors as unknown as JsonValue[]),
  };
}

/** The request id of a frame, if it is a JSON object with a usable id; otherwise undefined. */
export function requestIdOfText(text: string): RequestId | undefined {
  try {
    return requestIdOf(JSON.parse(text));
  } catch {
    return undefined; // not JSON: the reply simply carries no id
  }
}
