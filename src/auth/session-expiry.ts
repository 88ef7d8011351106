import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Scheduler, type ScheduledTask } from '../common/scheduler';
import { ConnectionRegistry } from '../connections/connection-registry';
import { CloseCode, CloseReason } from '../protocol/close-codes';
import type { Peer } from '../transport/socket/peer';

/** setTimeout's ceiling (about 24.8 days); longer deadlines are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Closes an authenticated socket with 1008 "Token expired" when its token's `exp` passes, even
 * if the client stays silent. One timer per authenticated connection, re-armed by a
 * refresh and cleared when the connection closes. (The dispatcher also checks `exp` on every
 * message, so a message can never slip through between expiry and the timer firing.)
 */
@Injectable()
export class SessionExpiry {
  private readonly timers = new Map<Peer, ScheduledTask>();

  constructor(
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    connections: ConnectionRegistry,
  ) {
    connections.onRemove((connection) => this.forget(connection));
  }

  /** (Re)arms the timer for the connection's current principal; no `exp`, no timer. */
  watch(connection: Peer): void {
    this.forget(connection);
    const exp = connection.principal?.exp;
    if (exp === undefined) return;
    const delay = Math.max(0, exp * 1000 - this.clock.now());
    const timer = this.scheduler.after(Math.min(delay, MAX_TIMER_MS), () => this.fire(connection));
    this.timers.set(connection, timer);
  }

  /** Number of connections with an armed timer. */
  get size(): number {
    return this.timers.size;
  }

  private fire(connection: Peer): void {
    this.timers.delete(connection);
    const exp = connection.principal?.exp;
    if (exp !== undefined && exp * 1000 > this.clock.now()) {
      this.watch(connection); // a deadline beyond one timer's reach: wait another step
      return;
    }
    if (connection.isOpen) connection.close(CloseCode.PolicyViolation, CloseReason.TokenExpired);
  }

  private forget(connection: Peer): void {
    const timer = this.timers.get(connection);
    if (timer === undefined) return;
    timer.cancel();
    this.timers.delete(connection);
  }
}
