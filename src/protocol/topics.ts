/**
 * Bus topic names. One namespace per kind, so a room and a channel with the same id never meet;
 * channels are shared by /ws/subscribe/{channel} and /ws/json alike.
 */
export const Topics = {
  chat: 'chat',
  room: (roomId: string) => `room:${roomId}`,
  channel: (channel: string) => `channel:${channel}`,
  /** Joins and leaves of a channel's members, batched by each instance. */
  presence: (channel: string) => `presence:${channel}`,
  /** POST /api/disconnect asks every instance to close a user's sockets. */
  disconnectUser: 'api:disconnect',
  /** Each instance answers the asking one here with how many sockets it closed. */
  disconnectedUser: (instance: string) => `api:disconnected:${instance}`,
} as const;

const CHANNEL_PREFIX = 'channel:';
const ROOM_PREFIX = 'room:';

/** The channel name of a channel topic, or undefined for any other topic. */
export function channelOf(topic: string): string | undefined {
  return topic.startsWith(CHANNEL_PREFIX) ? topic.slice(CHANNEL_PREFIX.length) : undefined;
}

export function isRoomTopic(topic: string): boolean {
  return topic.startsWith(ROOM_PREFIX);
}
