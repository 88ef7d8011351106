import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Bus, type BusMessage } from '../bus/bus';
import { InMemoryBus } from '../bus/in-memory-bus';
import { ConnectionRegistry } from '../connections/connection-registry';
import { CloseCode, CloseReason } from '../protocol/close-codes';
import { Topics } from '../protocol/topics';
import { InstanceId } from '../common/instance-id';

/** How long POST /api/disconnect waits for the other instances' counts. */
export const DISCONNECT_REPLY_WINDOW_MS = 500;

interface DisconnectRequest {
  readonly request: string;
  readonly user: string;
  readonly origin: string;
}

interface DisconnectReply {
  readonly request: string;
  readonly closed: number;
}

/**
 * Closes every socket of a user (its token's `sub`), on every instance, with 1008
 * "Disconnected by server". The asking instance closes its own at once and tells the others on
 * the bus; each answers on the asker's reply topic with how many it closed. The count is best
 * effort: an instance that has not answered within DISCONNECT_REPLY_WINDOW_MS is not counted
 * (its sockets are still closed when the request reaches it).
 */
@Injectable()
export class UserDisconnects implements OnModuleInit, OnModuleDestroy {
  private readonly replyTopic: string;
  private readonly counting = new Map<string, { closed: number }>();

  constructor(
    private readonly bus: Bus,
    private readonly connections: ConnectionRegistry,
    private readonly instance: InstanceId,
  ) {
    this.replyTopic = Topics.disconnectedUser(instance.value);
  }

  onModuleInit(): void {
    this.bus.subscribe(Topics.disconnectUser, this.onRequest);
    this.bus.subscribe(this.replyTopic, this.onReply);
  }

  onModuleDestroy(): void {
    this.bus.unsubscribe(Topics.disconnectUser, this.onRequest);
    this.bus.unsubscribe(this.replyTopic, this.onReply);
  }

  /** Closes `user`'s sockets everywhere; resolves with the count this instance heard of. */
  async disconnect(user: string): Promise<number> {
    const closed = this.closeLocal(user);
    // One process: no one else to ask or wait for.
    if (this.bus instanceof InMemoryBus) return closed;
    const request = randomUUID();
    const tally = { closed };
    this.counting.set(request, tally);
    const data = { request, user, origin: this.instance.value } satisfies DisconnectRequest;
    this.bus.publish({ topic: Topics.disconnectUser, data: { ...data } });
    await new Promise((resolve) => setTimeout(resolve, DISCONNECT_REPLY_WINDOW_MS).unref());
    this.counting.delete(request);
    return tally.closed;
  }

  private closeLocal(user: string): number {
    let closed = 0;
    for (const connection of this.connections) {
      if (connection.principal?.sub !== user || !connection.isOpen) continue;
      connection.close(CloseCode.PolicyViolation, CloseReason.DisconnectedByServer);
      closed++;
    }
    return closed;
  }

  private readonly onRequest = ({ data }: BusMessage): void => {
    const { request, user, origin } = data as unknown as DisconnectRequest;
    if (origin === this.instance.value || typeof user !== 'string') return;
    const reply = { request, closed: this.closeLocal(user) } satisfies DisconnectReply;
    this.bus.publish({ topic: Topics.disconnectedUser(origin), data: { ...reply } });
  };

  private readonly onReply = ({ data }: BusMessage): void => {
    const { request, closed } = data as unknown as DisconnectReply;
    const tally = this.counting.get(request);
    if (tally && Number.isSafeInteger(closed)) tally.closed += closed;
  };
}
