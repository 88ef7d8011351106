import { Injectable } from '@nestjs/common';

/**
 * Local membership: which sockets of this instance are in which room. A "room" here is any named
 * group the pub/sub layer fans out to: the chat lobby, a room, a channel.
 *
 * A room exists only while it has members: the last leave deletes it, so an id can be reused and
 * memory follows the number of live memberships, not the number of rooms ever seen.
 */
@Injectable()
export class RoomRegistry<M extends object = object> {
  private readonly rooms = new Map<string, Set<M>>();
  private readonly memberships = new Map<M, Set<string>>();

  /** Adds `member` to `room`; returns true when this created the room (its first member). */
  join(room: string, member: M): boolean {
    let members = this.rooms.get(room);
    const created = members === undefined;
    if (!members) {
      members = new Set();
      this.rooms.set(room, members);
    }
    members.add(member);
    let joined = this.memberships.get(member);
    if (!joined) {
      joined = new Set();
      this.memberships.set(member, joined);
    }
    joined.add(room);
    return created;
  }

  /** Removes `member` from `room`; returns true when this removed the room (its last member). */
  leave(room: string, member: M): boolean {
    const joined = this.memberships.get(member);
    if (joined?.delete(room) && joined.size === 0) this.memberships.delete(member);
    const members = this.rooms.get(room);
    if (!members?.delete(member) || members.size > 0) return false;
    this.rooms.delete(room);
    return true;
  }

  /** Removes `member` from every room; returns the rooms this emptied and removed. */
  leaveAll(member: M): string[] {
    const joined = this.memberships.get(member);
    if (!joined) return [];
    const removed: string[] = [];
    for (const room of [...joined]) {
      if (this.leave(room, member)) removed.push(room);
    }
    return removed;
  }

  members(room: string): ReadonlySet<M> | undefined {
    return this.rooms.get(room);
  }

  roomsOf(member: M): ReadonlySet<string> | undefined {
    return this.memberships.get(member);
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  /** Number of rooms with at least one member. */
  get size(): number {
    return this.rooms.size;
  }

  /** Number of members with at least one room. */
  get memberCount(): number {
    return this.memberships.size;
  }

  roomNames(): IterableIterator<string> {
    return this.rooms.keys();
  }
}
