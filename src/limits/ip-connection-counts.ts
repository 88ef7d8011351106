/**
 * Open sockets per client IP on this instance, for MAX_CONNECTIONS_PER_IP. Per instance by
 * design: a socket lives on one instance and is released there when it closes, so the count is
 * exact without a round trip to Redis; behind N instances a client can hold up to N times the
 * limit. One small entry per IP with an open socket, deleted when its last socket closes.
 */
export class IpConnectionCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for `ip`; false, taking nothing, when it already holds `max`. */
  tryAcquire(ip: string): boolean {
    const count = this.counts.get(ip) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(ip, count + 1);
    return true;
  }

  release(ip: string): void {
    const count = this.counts.get(ip);
    if (count === undefined) return;
    if (count <= 1) this.counts.delete(ip);
    else this.counts.set(ip, count - 1);
  }

  /** Sockets `ip` holds now. */
  openFrom(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }

  /** IPs holding at least one socket. */
  get size(): number {
    return this.counts.size;
  }
}
