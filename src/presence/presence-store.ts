import type { PresenceMember } from './presence-member';

/** A channel and the members this instance holds in it, for `refresh`. */
export interface LocalMembers {
  readonly channel: string;
  readonly members: readonly PresenceMember[];
}

/**
 * Where presence lives: Redis when the bus is Redis (every instance sees every member), memory
 * otherwise. Each call is O(1) commands for the channel it touches; a channel's keys are freed
 * when its last member leaves.
 */
export abstract class PresenceStore {
  abstract add(channel: string, member: PresenceMember): Promise<void>;
  abstract remove(channel: string, member: PresenceMember): Promise<void>;
  abstract list(channel: string): Promise<PresenceMember[]>;
  /**
   * Writes this instance's members with a new lease (restoring any whose join was lost) and removes, per channel, the members whose
   * lease ran out (their instance died): resolves with those, each reported to one caller only.
   */
  abstract refresh(local: readonly LocalMembers[]): Promise<Map<string, PresenceMember[]>>;
}

/** One process: nothing outlives it, so nothing expires. */
export class MemoryPresenceStore extends PresenceStore {
  private readonly channels = new Map<string, Map<string, PresenceMember>>();

  add(channel: string, member: PresenceMember): Promise<void> {
    let members = this.channels.get(channel);
    if (!members) this.channels.set(channel, (members = new Map<string, PresenceMember>()));
    members.set(member.client, member);
    return Promise.resolve();
  }

  remove(channel: string, member: PresenceMember): Promise<void> {
    const members = this.channels.get(channel);
    members?.delete(member.client);
    if (members?.size === 0) this.channels.delete(channel);
    return Promise.resolve();
  }

  list(channel: string): Promise<PresenceMember[]> {
    return Promise.resolve([...(this.channels.get(channel)?.values() ?? [])]);
  }

  refresh(): Promise<Map<string, PresenceMember[]>> {
    return Promise.resolve(new Map<string, PresenceMember[]>());
  }

  /** Channels with members: for leak tests. */
  get channelCount(): number {
    return this.channels.size;
  }
}
