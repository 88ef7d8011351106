export { SwitchboardClient } from './client.js';
export type {
  ClientEvents,
  ClientOptions,
  ConnectionState,
  WebSocketConstructor,
  WebSocketLike,
} from './client.js';
export { SwitchboardCloseError, SwitchboardError, type ErrorCode } from './errors.js';
export { Subscription, type MessageHandler } from './subscription.js';
export type * from './protocol.js';
export { CloseCodes } from './protocol.js';
export type { BackoffOptions } from './backoff.js';
