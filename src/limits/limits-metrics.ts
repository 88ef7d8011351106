import { Counter, Gauge, type Registry } from 'prom-client';
import type { PendingSockets } from './pending-sockets';
import type { UpgradeLimits } from './upgrade-limits';

/** The limits' own metrics, read at scrape time like the others. */
export function registerLimitMetrics(
  registers: Registry[],
  limits: Pick<UpgradeLimits, 'connectRate'>,
  pending: Pick<PendingSockets, 'pending' | 'refused'>,
): void {
  new Counter({
    name: 'switchboard_connect_rate_failures_total',
    help: 'Upgrades let through uncounted because the rate-limit storage (Redis) failed or was slow.',
    registers,
    collect() {
      this.reset();
      this.inc(limits.connectRate?.failures ?? 0);
    },
  });
  new Gauge({
    name: 'switchboard_pending_sockets',
    help: 'Sockets that are not WebSockets (yet): HTTP requests, keep-alive, handshakes.',
    registers,
    collect() {
      this.set(pending.pending);
    },
  });
  new Counter({
    name: 'switchboard_pending_sockets_refused_total',
    help: 'Sockets closed at once because MAX_PENDING_SOCKETS were open.',
    registers,
    collect() {
      this.reset();
      this.inc(pending.refused);
    },
  });
}
