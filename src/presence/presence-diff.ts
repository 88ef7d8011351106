import type { PresenceMember } from './presence-member';

/** Joins and leaves of one channel, as a presence_diff lists them. */
export interface PresenceChanges {
  readonly joins: PresenceMember[];
  readonly leaves: PresenceMember[];
}

/**
 * Changes gathered between two flushes. A member that joins and leaves (or leaves and joins
 * again) within the batch cancels out: it appears in neither list.
 */
export class PendingDiff {
  private readonly joins = new Map<string, PresenceMember>();
  private readonly leaves = new Map<string, PresenceMember>();

  join(member: PresenceMember): void {
    if (!this.leaves.delete(member.client)) this.joins.set(member.client, member);
  }

  leave(member: PresenceMember): void {
    if (!this.joins.delete(member.client)) this.leaves.set(member.client, member);
  }

  merge({ joins, leaves }: PresenceChanges): void {
    for (const member of joins) this.join(member);
    for (const member of leaves) this.leave(member);
  }

  get isEmpty(): boolean {
    return this.joins.size === 0 && this.leaves.size === 0;
  }

  take(): PresenceChanges {
    const changes = { joins: [...this.joins.values()], leaves: [...this.leaves.values()] };
    this.joins.clear();
    this.leaves.clear();
    return changes;
  }
}
