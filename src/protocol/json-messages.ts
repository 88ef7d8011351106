import type { JsonValue } from './json-value';

/**
 * The /ws/json protocol. Requests are envelopes `{type, payload?, id?}`; replies are
 * `{type, data, id?}`, with the request's `id` echoed on every direct reply, errors included.
 */
export type RequestId = string | number;

export interface JsonReply {
  readonly type: string;
  readonly data: JsonValue;
  readonly id?: RequestId;
}

export const JsonMessageType = {
  ping: 'ping',
  pong: 'pong',
  subscribe: 'subscribe',
  subscribed: 'subscribed',
  unsubscribe: 'unsubscribe',
  unsubscribed: 'unsubscribed',
  publish: 'publish',
  published: 'published',
  message: 'message',
  refresh: 'refresh',
  refreshed: 'refreshed',
  /** Request and reply: the members of a channel. */
  presence: 'presence',
  /** Pushed to `presence: true` subscribers: who joined and left a channel. */
  presenceDiff: 'presence_diff',
  error: 'error',
} as const;

export const JsonErrorMessage = {
  invalidJson: 'Invalid JSON',
  validationFailed: 'Validation failed',
  unknownType: 'Unknown type',
  tooManySubscriptions: 'Too many subscriptions',
  notAuthenticated: 'Not authenticated',
  subjectMismatch: 'Token subject does not match',
  tokenInvalid: 'Token invalid',
  tokenExpired: 'Token expired',
} as const;

/** Why the server ended a subscription on its own (`unsubscribed` with a `reason`). */
export const UnsubscribeReason = {
  /** Publications the subscriber had not received left history: resubscribe with `since`. */
  insufficientState: 'Insufficient state',
} as const;

export function jsonReply(type: string, data: JsonValue, id?: RequestId): JsonReply {
  return id === undefined ? { type, data } : { type, data, id };
}

export function jsonError(message: string, id?: RequestId, errors?: JsonValue[]): JsonReply {
  const data: { [key: string]: JsonValue } = { message };
  if (errors) data.errors = errors;
  return jsonReply(JsonMessageType.error, data, id);
}

/**
 * What a /ws/json subscriber of `channel` receives for each publish; with history on, the
 * publication's offset too.
 */
export function channelMessage(channel: string, message: JsonValue, offset?: number): JsonReply {
  return jsonReply(
    JsonMessageType.message,
    offset === undefined ? { channel, message } : { channel, message, offset },
  );
}

/** Sent when the server ends a subscription because publications were lost for good. */
export function insufficientState(channel: string): JsonReply {
  return jsonReply(JsonMessageType.unsubscribed, {
    channel,
    reason: UnsubscribeReason.insufficientState,
  });
}

/** Reads a usable request id off anything a client sent; anything else is no id. */
export function requestIdOf(value: unknown): RequestId | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}
