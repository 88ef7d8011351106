import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { Bus } from '../bus/bus';
import { ConnectionRegistry } from '../connections/connection-registry';
import { registerLimitMetrics } from '../limits/limits-metrics';
import { PendingSockets } from '../limits/pending-sockets';
import { UpgradeLimits } from '../limits/upgrade-limits';
import { Endpoints, type EndpointName } from '../protocol/endpoints';
import { isRoomTopic } from '../protocol/topics';
import { RoomRegistry } from '../rooms/room-registry';
import { processMetrics } from './process-metrics';
import { TransportStats } from './transport-stats';

/** Every endpoint, so that each per-endpoint series exists from boot, at 0. */
const ENDPOINT_NAMES = Object.keys(Endpoints) as EndpointName[];

/**
 * The Prometheus registry of one application: Switchboard's metrics and the process metrics.
 *
 * Nothing here runs per message. Every value is read when Prometheus scrapes, through
 * prom-client `collect` callbacks, from state the application keeps anyway: the plain counters
 * of TransportStats, the connection and room registries, the bus. The registry belongs to the
 * application, never prom-client's global one, so several applications in one process (the
 * e2e suites) neither collide nor count each other's traffic.
 */
@Injectable()
export class MetricsService {
  private readonly registry: Registry;

  constructor(
    stats: TransportStats,
    connections: ConnectionRegistry,
    rooms: RoomRegistry,
    bus: Bus,
    limits: UpgradeLimits,
    pending: PendingSockets,
  ) {
    const own = new Registry();
    const registers = [own];

    new Gauge({
      name: 'switchboard_connections',
      help: 'Open WebSocket connections on this instance, by endpoint.',
      labelNames: ['endpoint'],
      registers,
      collect() {
        for (const endpoint of ENDPOINT_NAMES) {
          this.set({ endpoint }, connections.countFor(endpoint));
        }
      },
    });
    new Gauge({
      name: 'switchboard_rooms',
      help: 'Rooms (/ws/room/{room_id}) with at least one member on this instance.',
      registers,
      collect() {
        let count = 0;
        for (const topic of rooms.roomNames()) if (isRoomTopic(topic)) count++;
        this.set(count);
      },
    });
    const perEndpoint = (totals: Readonly<Record<EndpointName, number>>) =>
      ENDPOINT_NAMES.map((endpoint) => [{ endpoint }, totals[endpoint]] as const);
    mirroredCounter({
      name: 'switchboard_messages_received_total',
      help: 'Text frames received, by endpoint, rate-limited ones included.',
      labelNames: ['endpoint'],
      registers,
      totals: () => perEndpoint(stats.received),
    });
    mirroredCounter({
      name: 'switchboard_messages_sent_total',
      help: 'Text frames queued to clients, by endpoint: replies, errors and broadcast deliveries.',
      labelNames: ['endpoint'],
      registers,
      totals: () => perEndpoint(stats.sent),
    });
    mirroredCounter({
      name: 'switchboard_rate_limited_total',
      help: 'Frames refused by the per-connection rate limit, by endpoint.',
      labelNames: ['endpoint'],
      registers,
      totals: () => perEndpoint(stats.rateLimited),
    });
    mirroredCounter({
      name: 'switchboard_closes_total',
      help: 'Closed WebSocket connections, by close code (1006: ended without a close frame; other: a code the server never uses).',
      labelNames: ['code'],
      registers,
      totals: () => [...stats.closes].map(([code, total]) => [{ code }, total] as const),
    });
    mirroredCounter({
      name: 'switchboard_upgrades_refused_total',
      help: 'WebSocket upgrades answered with an HTTP error status instead, by status.',
      labelNames: ['status'],
      registers,
      totals: () =>
        [...stats.refusedUpgrades].map(
          ([status, total]) => [{ status: String(status) }, total] as const,
        ),
    });
    mirroredCounter({
      name: 'switchboard_slow_consumers_total',
      help: 'Connections shed because their unsent data exceeded MAX_BUFFERED_BYTES.',
      registers,
      totals: () => [[{}, stats.slowConsumers]],
    });
    new Gauge({
      name: 'switchboard_bus_connected',
      help: '1 while the bus reaches the other instances (always 1 for the in-memory bus), else 0.',
      registers,
      collect() {
        this.set(bus.connected ? 1 : 0);
      },
    });
    mirroredCounter({
      name: 'switchboard_bus_dropped_total',
      help: 'Publishes that did not (or may not have) reached the other instances, since boot.',
      registers,
      totals: () => [[{}, bus.dropped]],
    });
    mirroredCounter({
      name: 'switchboard_bus_rejected_total',
      help:
        'Messages received from the bus and refused, by reason: too-large, too-deep, too-wide, ' +
        'unsigned, bad-signature, or a malformed envelope (invalid-json, not-an-object, unknown-version, ' +
        'invalid-field).',
      labelNames: ['reason'],
      registers,
      totals: () => [...bus.problemCounts.rejected].map(([reason, n]) => [{ reason }, n] as const),
    });
    mirroredCounter({
      name: 'switchboard_bus_command_errors_total',
      help: 'Redis commands answered with an error (e.g. denied by an ACL), by command.',
      labelNames: ['command'],
      registers,
      totals: () =>
        [...bus.problemCounts.commandErrors].map(([command, n]) => [{ command }, n] as const),
    });
    mirroredCounter({
      name: 'switchboard_bus_subscriber_disconnects_total',
      help:
        'Times the Redis subscriber connection was lost after it was ready; messages published ' +
        'by other instances meanwhile did not reach this one.',
      registers,
      totals: () => [[{}, bus.problemCounts.subscriberDisconnects]],
    });
    registerLimitMetrics(registers, limits, pending);

    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** Every metric, read now, in the Prometheus text format (Registry.PROMETHEUS_CONTENT_TYPE). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

type Labels<L extends string> = Partial<Record<L, string>>;

interface MirroredCounter<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly registers: Registry[];
  /** Read at scrape time: every series of the counter, with its total since boot. */
  readonly totals: () => Iterable<readonly [Labels<L>, number]>;
}

/**
 * A counter whose totals are kept elsewhere and copied at scrape time. prom-client counters only
 * move by `inc`, so each scrape starts from zero; the totals themselves only grow, so Prometheus
 * sees a monotonic counter.
 */
function mirroredCounter<L extends string>({ totals, ...config }: MirroredCounter<L>): void {
  new Counter<L>({
    ...config,
    collect() {
      this.reset();
      for (const [labels, total] of totals()) this.inc(labels, total);
    },
  });
}
