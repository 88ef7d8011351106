/** A socket whose writes can be held for the rest of an event-loop turn. */
export interface Batchable {
  /** Corks the socket's TCP stream; false when there is nothing to cork (closed, already held). */
  cork(): boolean;
  /** Uncorks it, writing everything held in one system call, then checks its backlog. */
  flushBatch(): void;
}

/**
 * Coalesces the writes one event-loop turn makes to a socket into one system call.
 *
 * The first write of a turn to a socket corks its TCP stream; one setImmediate per turn flushes
 * every socket held, so all the frames a socket got in that turn (a burst of replies, many
 * broadcasts) leave in a single writev instead of one each. The cost is at most the rest of the
 * current turn in latency.
 */
export class WriteBatcher {
  private held: Batchable[] = [];
  private scheduled = false;

  /** Call before writing to `socket`. */
  hold(socket: Batchable): void {
    if (!socket.cork()) return;
    this.held.push(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    const held = this.held;
    this.held = [];
    this.scheduled = false;
    for (const socket of held) socket.flushBatch();
  };
}
