import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Bus, type BusMessage, type JsonValue } from '../bus/bus';
import { Scheduler, type ScheduledTask } from '../common/scheduler';
import { AppConfig } from '../config/app-config';
import { ConnectionRegistry } from '../connections/connection-registry';
import { JsonMessageType } from '../protocol/json-messages';
import { Topics } from '../protocol/topics';
import type { Peer } from '../transport/socket/peer';
import { PendingDiff, type PresenceChanges } from './presence-diff';
import { snapshotOf, type PresenceMember, type PresenceSnapshot } from './presence-member';
import { PresenceStore } from './presence-store';

interface LocalMember {
  readonly member: PresenceMember;
  /** Subscribed with `"presence": true`: receives presence_diff frames. */
  diffs: boolean;
}

/**
 * Who is subscribed to each channel on /ws/json, across instances. This instance keeps its own
 * members (to refresh their leases and to send diffs), the PresenceStore holds everyone's.
 *
 * Diffs are batched twice, each time at most once per PRESENCE_DIFF_MS per channel: joins and
 * leaves made here are published on the bus (`presence:<channel>`, signed like every bus frame)
 * in one message per flush, and what arrives from every instance is merged and sent to the
 * local `presence: true` subscribers in one presence_diff frame per flush. A member that leaves
 * and rejoins within a batch cancels out. Members of a dead instance lose their lease within
 * PRESENCE_TTL_SECONDS; the instance whose refresh removes them publishes their leaves.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PresenceService.name);
  private readonly local = new Map<string, Map<Peer, LocalMember>>();
  private readonly outgoing = new Map<string, PendingDiff>();
  private readonly incoming = new Map<string, PendingDiff>();
  private outgoingFlush?: ScheduledTask;
  private readonly incomingFlushes = new Map<string, ScheduledTask>();
  private refreshTask?: ScheduledTask;

  constructor(
    private readonly store: PresenceStore,
    private readonly bus: Bus,
    private readonly scheduler: Scheduler,
    private readonly config: AppConfig,
    connections: ConnectionRegistry,
  ) {
    connections.onRemove((connection) => this.leaveAll(connection));
  }

  onModuleInit(): void {
    // Every sixth of the TTL; leases last 2/3 of it (see PresenceModule).
    const refreshMs = (this.config.presence.ttlSeconds * 1000) / 6;
    this.refreshTask = this.scheduler.every(refreshMs, () => void this.refresh());
  }

  onApplicationShutdown(): void {
    this.refreshTask?.cancel();
    this.outgoingFlush?.cancel();
    for (const task of this.incomingFlushes.values()) task.cancel();
  }

  /** `connection` is a member of `channel`; idempotent (a repeat only updates `diffs`). */
  join(connection: Peer, channel: string, diffs: boolean): void {
    // A subscribe with history awaits Redis: the socket may have closed (and left) meanwhile.
    if (!connection.isOpen) return;
    let members = this.local.get(channel);
    const existing = members?.get(connection);
    if (existing) {
      existing.diffs = diffs;
      return;
    }
    if (!members) {
      this.local.set(channel, (members = new Map<Peer, LocalMember>()));
      this.bus.subscribe(Topics.presence(channel), this.onDiff);
    }
    const member = { client: connection.id, user: connection.principal?.sub ?? null };
    members.set(connection, { member, diffs });
    this.store.add(channel, member).catch((error: unknown) => this.failed('join', error));
    this.changed(channel).join(member);
  }

  /** `connection` is no longer a member of `channel`; idempotent. */
  leave(connection: Peer, channel: string): void {
    const members = this.local.get(channel);
    const entry = members?.get(connection);
    if (!members || !entry) return;
    members.delete(connection);
    if (members.size === 0) {
      this.local.delete(channel);
      this.bus.unsubscribe(Topics.presence(channel), this.onDiff);
      this.incoming.delete(channel);
      this.incomingFlushes.get(channel)?.cancel();
      this.incomingFlushes.delete(channel);
    }
    this.store.remove(channel, entry.member).catch((error: unknown) => this.failed('leave', error));
    this.changed(channel).leave(entry.member);
  }

  /** The members of `channel` on every instance, at most MAX_LISTED_MEMBERS listed. */
  async snapshot(channel: string): Promise<PresenceSnapshot> {
    return snapshotOf(channel, await this.store.list(channel));
  }

  /** Channels with members on this instance, and pending batches: for leak tests. */
  get footprint(): { channels: number; pending: number } {
    return { channels: this.local.size, pending: this.outgoing.size + this.incoming.size };
  }

  private leaveAll(connection: Peer): void {
    for (const [channel, members] of [...this.local]) {
      if (members.has(connection)) this.leave(connection, channel);
    }
  }

  private changed(channel: string): PendingDiff {
    let pending = this.outgoing.get(channel);
    if (!pending) this.outgoing.set(channel, (pending = new PendingDiff()));
    this.outgoingFlush ??= this.scheduler.after(this.config.presence.diffMs, this.publishDiffs);
    return pending;
  }

  private readonly publishDiffs = (): void => {
    this.outgoingFlush = undefined;
    for (const [channel, pending] of this.outgoing) {
      if (pending.isEmpty) continue;
      const data = pending.take() as unknown as JsonValue;
      this.bus.publish({ topic: Topics.presence(channel), data });
    }
    this.outgoing.clear();
  };

  private readonly onDiff = ({ topic, data }: BusMessage): void => {
    const channel = topic.slice(Topics.presence('').length);
    if (!this.local.has(channel) || !isChanges(data)) return;
    let pending = this.incoming.get(channel);
    if (!pending) this.incoming.set(channel, (pending = new PendingDiff()));
    pending.merge(data);
    if (this.incomingFlushes.has(channel)) return;
    const flush = () => this.sendDiff(channel);
    this.incomingFlushes.set(channel, this.scheduler.after(this.config.presence.diffMs, flush));
  };

  private sendDiff(channel: string): void {
    this.incomingFlushes.delete(channel);
    const pending = this.incoming.get(channel);
    this.incoming.delete(channel);
    if (!pending || pending.isEmpty) return;
    const frame = JSON.stringify({
      type: JsonMessageType.presenceDiff,
      data: { channel, ...pending.take() },
    });
    for (const [connection, { diffs }] of this.local.get(channel) ?? []) {
      if (diffs) connection.sendText(frame);
    }
  }

  private async refresh(): Promise<void> {
    const local = [...this.local].map(([channel, members]) => ({
      channel,
      members: [...members.values()].map(({ member }) => member),
    }));
    try {
      const expired = await this.store.refresh(local);
      for (const [channel, members] of expired) {
        const pending = this.changed(channel);
        for (const member of members) pending.leave(member);
      }
    } catch (error) {
      this.failed('refresh', error);
    }
  }

  private failed(operation: string, error: unknown): void {
    this.logger.warn({ msg: `presence ${operation} failed`, error: String(error) });
  }
}

function isChanges(data: JsonValue): data is JsonValue & PresenceChanges {
  const { joins, leaves } = (data ?? {}) as Partial<PresenceChanges>;
  return Array.isArray(joins) && Array.isArray(leaves);
}
