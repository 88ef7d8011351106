/**
 * The /ws/json wire contract as the client sends and reads it. Every type here mirrors a message
 * of docs/asyncapi.yaml; test/client/protocol-types.e2e-spec.ts holds samples of each against the
 * document's schemas, so a change on either side fails the build.
 */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type RequestId = string | number;

/** A channel's position: its epoch and the offset of a publication in it. */
export interface Since {
  offset: number;
  epoch?: string;
}

export interface Publication {
  offset: number;
  message: JsonValue;
}

/** The payload of each request type. */
export interface RequestPayloads {
  /** ping takes none. */
  ping: undefined;
  /** `presence: true` also sends this subscription the channel's `presence_diff` frames. */
  subscribe: { channel: string; since?: Since; presence?: boolean };
  unsubscribe: { channel: string };
  presence: { channel: string };
  publish: { channel: string; message: JsonValue };
  refresh: { token: string };
}

export interface SubscribedData {
  channel: string;
  /** With history on (HISTORY_SIZE > 0). */
  epoch?: string;
  offset?: number;
  /** Only when the request had `since`. */
  recovered?: boolean;
  publications?: Publication[];
}

export interface UnsubscribedData {
  channel: string;
  /** Only when the server ended the subscription on its own. */
  reason?: 'Insufficient state';
}

export interface PublishedData {
  channel: string;
  epoch?: string;
  offset?: number;
}

export interface RefreshedData {
  /** Seconds since the Unix epoch; null for a token without `exp`. */
  exp: number | null;
}

export interface MessageData {
  channel: string;
  message: JsonValue;
  offset?: number;
}

/** A /ws/json subscription: its connection id, and its token's `sub` (null without a token). */
export interface PresenceMember {
  client: string;
  user: string | null;
}

export interface PresenceData {
  channel: string;
  /** Exact counts, across instances. */
  clients: number;
  users: number;
  /** At most 1000; `truncated` is then true. */
  members: PresenceMember[];
  truncated?: true;
}

/** Who joined and left since the last diff (at most one per PRESENCE_DIFF_MS per channel). */
export interface PresenceDiffData {
  channel: string;
  joins: PresenceMember[];
  leaves: PresenceMember[];
}

export interface FieldError {
  field: string;
  message: string;
}

export interface ErrorData {
  message: string;
  errors?: FieldError[];
}

/** The reply `data` of each request type. */
export interface ReplyData {
  ping: Record<string, never>;
  subscribe: SubscribedData;
  unsubscribe: UnsubscribedData;
  publish: PublishedData;
  refresh: RefreshedData;
  presence: PresenceData;
}

export type RequestType = keyof RequestPayloads;

export type RequestFrame<T extends RequestType = RequestType> = {
  type: T;
  id?: RequestId;
} & (RequestPayloads[T] extends undefined ? unknown : { payload: RequestPayloads[T] });

/** Every frame the client sends and the server sends, by its AsyncAPI message name. */
export interface ProtocolMessages {
  PingRequest: RequestFrame<'ping'>;
  PongAnswer: { type: 'pong'; id?: RequestId };
  SubscribeRequest: RequestFrame<'subscribe'>;
  UnsubscribeRequest: RequestFrame<'unsubscribe'>;
  PublishRequest: RequestFrame<'publish'>;
  RefreshRequest: RequestFrame<'refresh'>;
  PresenceRequest: RequestFrame<'presence'>;
  PongReply: { type: 'pong'; data: ReplyData['ping']; id?: RequestId };
  SubscribedReply: { type: 'subscribed'; data: SubscribedData; id?: RequestId };
  UnsubscribedReply: { type: 'unsubscribed'; data: UnsubscribedData; id?: RequestId };
  PublishedReply: { type: 'published'; data: PublishedData; id?: RequestId };
  RefreshedReply: { type: 'refreshed'; data: RefreshedData; id?: RequestId };
  PresenceReply: { type: 'presence'; data: PresenceData; id?: RequestId };
  PresenceDiff: { type: 'presence_diff'; data: PresenceDiffData };
  ChannelMessage: { type: 'message'; data: MessageData };
  HeartbeatPing: { type: 'ping'; data: Record<string, never> };
  ErrorReply: { type: 'error'; data: ErrorData; id?: RequestId };
}

export type ServerFrame = ProtocolMessages[
  | 'PongReply'
  | 'SubscribedReply'
  | 'UnsubscribedReply'
  | 'PublishedReply'
  | 'RefreshedReply'
  | 'PresenceReply'
  | 'PresenceDiff'
  | 'ChannelMessage'
  | 'HeartbeatPing'
  | 'ErrorReply'];

/** Close codes a Switchboard server (or its ws library) closes with; see docs/protocol.md §10. */
export const CloseCodes = {
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;
