/** A /ws/json subscription as presence lists it: its connection id and token subject. */
export interface PresenceMember {
  readonly client: string;
  readonly user: string | null;
}

/** Most members a presence reply lists; the counts stay exact past it. */
export const MAX_LISTED_MEMBERS = 1000;

/** The data of a `presence` reply (and of GET /api/channels/{channel}/presence). */
export interface PresenceSnapshot {
  readonly channel: string;
  readonly clients: number;
  readonly users: number;
  readonly members: readonly PresenceMember[];
  readonly truncated?: true;
}

export function snapshotOf(channel: string, members: readonly PresenceMember[]): PresenceSnapshot {
  const users = new Set(members.flatMap(({ user }) => (user === null ? [] : [user]))).size;
  const listed = members.slice(0, MAX_LISTED_MEMBERS);
  const snapshot = { channel, clients: members.length, users, members: listed };
  return members.length > MAX_LISTED_MEMBERS ? { ...snapshot, truncated: true } : snapshot;
}
