/**
 * The endpoints of the wire contract. Gateways declare themselves with one of these, and the
 * transport routes upgrades by `path` (static segments win over `:params`).
 *
 * `params` maps each path parameter to the name the contract uses for it in close reasons.
 * Every parameter follows the id rule in ids.ts.
 */
export type FrameFormat = 'text' | 'json';

export interface EndpointDefinition {
  readonly name: EndpointName;
  readonly path: string;
  readonly format: FrameFormat;
  readonly params: Readonly<Record<string, string>>;
  /** A valid token is required here even when AUTH_REQUIRED is false. */
  readonly requiresToken?: boolean;
  /** With a token, this path parameter must equal the token's subject. */
  readonly subjectParam?: string;
}

export type EndpointName = 'echo' | 'chat' | 'room' | 'subscribe' | 'secure' | 'json';

export const Endpoints = {
  echo: { name: 'echo', path: '/ws', format: 'text', params: {} },
  chat: {
    name: 'chat',
    path: '/ws/:clientId',
    format: 'text',
    params: { clientId: 'client_id' },
    subjectParam: 'clientId',
  },
  room: { name: 'room', path: '/ws/room/:roomId', format: 'text', params: { roomId: 'room_id' } },
  subscribe: {
    name: 'subscribe',
    path: '/ws/subscribe/:channel',
    format: 'text',
    params: { channel: 'channel' },
  },
  secure: { name: 'secure', path: '/ws/secure', format: 'text', params: {}, requiresToken: true },
  json: { name: 'json', path: '/ws/json', format: 'json', params: {} },
} as const satisfies Record<EndpointName, EndpointDefinition>;

/**
 * Segments that belong to other endpoints and so are never chat client ids: `/ws/room` is a 404,
 * not the chat client "room". The router enforces this by never backtracking from a static match.
 */
export const RESERVED_SEGMENTS = ['room', 'subscribe', 'json', 'secure'] as const;

/** The event name a text endpoint's frames are dispatched under (`@SubscribeMessage(TEXT_EVENT)`). */
export const TEXT_EVENT = 'text';
