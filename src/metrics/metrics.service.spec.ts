import { Bus, type BusListener, type BusMessage } from '../bus/bus';
import { ConnectionRegistry } from '../connections/connection-registry';
import { Endpoints, type EndpointDefinition } from '../protocol/endpoints';
import { Topics } from '../protocol/topics';
import { RoomRegistry } from '../rooms/room-registry';
import type { Connection } from '../transport/socket/connection';
import { MetricsService } from './metrics.service';
import { PendingSockets } from '../limits/pending-sockets';
import type { UpgradeLimits } from '../limits/upgrade-limits';
import { TransportStats } from './transport-stats';

/** A bus whose state the test sets; the metrics only read `connected` and `dropped`. */
class FakeBus extends Bus {
  connected = true;
  dropped = 0;
  readonly topicCount = 0;
  publish(_message: BusMessage): void {}
  subscribe(_topic: string, _listener: BusListener): void {}
  unsubscribe(_topic: string, _listener: BusListener): void {}
}

function fakeConnection(endpoint: EndpointDefinition): Connection {
  return { endpoint } as unknown as Connection;
}

/** The sample lines of `text` for the metric `name` (no comments, no other metric). */
function samples(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('MetricsService', () => {
  let stats: TransportStats;
  let connections: ConnectionRegistry;
  let rooms: RoomRegistry;
  let bus: FakeBus;
  let metrics: MetricsService;

  const limits = { connectRate: undefined } as UpgradeLimits;
  const pending = new PendingSockets(10, { now: () => 0 });

  beforeEach(() => {
    stats = new TransportStats();
    connections = new ConnectionRegistry();
    rooms = new RoomRegistry();
    bus = new FakeBus();
    metrics = new MetricsService(stats, connections, rooms, bus, limits, pending);
  });

  it('reads connections per endpoint at scrape time, every endpoint always present', async () => {
    connections.add(fakeConnection(Endpoints.room));
    connections.add(fakeConnection(Endpoints.room));
    connections.add(fakeConnection(Endpoints.json));

    expect(samples(await metrics.scrape(), 'switchboard_connections')).toEqual([
      'switchboard_connections{endpoint="echo"} 0',
      'switchboard_connections{endpoint="chat"} 0',
      'switchboard_connections{endpoint="room"} 2',
      'switchboard_connections{endpoint="subscribe"} 0',
      'switchboard_connections{endpoint="secure"} 0',
      'switchboard_connections{endpoint="json"} 1',
    ]);
  });

  it('counts room topics only: not the chat lobby, not channels', async () => {
    const member = {};
    rooms.join(Topics.room('a'), member);
    rooms.join(Topics.room('b'), member);
    rooms.join(Topics.chat, member);
    rooms.join(Topics.channel('room:c'), member);

    expect(samples(await metrics.scrape(), 'switchboard_rooms')).toEqual(['switchboard_rooms 2']);
  });

  it('mirrors the transport counters without adding them up across scrapes', async () => {
    stats.received.echo = 3;
    stats.sent.echo = 4;
    stats.rateLimited.chat = 1;
    stats.countClose(1000);
    stats.countClose(1000);
    stats.countClose(1003);
    stats.countRefusedUpgrade(404);
    stats.slowConsumers = 2;

    await metrics.scrape();
    const text = await metrics.scrape();

    expect(samples(text, 'switchboard_messages_received_total')).toContain(
      'switchboard_messages_received_total{endpoint="echo"} 3',
    );
    expect(samples(text, 'switchboard_messages_sent_total')).toContain(
      'switchboard_messages_sent_total{endpoint="echo"} 4',
    );
    expect(samples(text, 'switchboard_rate_limited_total')).toContain(
      'switchboard_rate_limited_total{endpoint="chat"} 1',
    );
    expect(samples(text, 'switchboard_closes_total')).toEqual([
      'switchboard_closes_total{code="1000"} 2',
      'switchboard_closes_total{code="1003"} 1',
    ]);
    expect(samples(text, 'switchboard_upgrades_refused_total')).toEqual([
      'switchboard_upgrades_refused_total{status="404"} 1',
    ]);
    expect(samples(text, 'switchboard_slow_consumers_total')).toEqual([
      'switchboard_slow_consumers_total 2',
    ]);
  });

  it('counts close codes the server never uses under one label, "other"', async () => {
    for (let code = 3000; code < 5000; code++) stats.countClose(code);
    stats.countClose(1013);

    const text = await metrics.scrape();

    expect(samples(text, 'switchboard_closes_total')).toEqual([
      'switchboard_closes_total{code="other"} 2000',
      'switchboard_closes_total{code="1013"} 1',
    ]);
  });

  it('reads the bus state at scrape time', async () => {
    let text = await metrics.scrape();
    expect(samples(text, 'switchboard_bus_connected')).toEqual(['switchboard_bus_connected 1']);
    expect(samples(text, 'switchboard_bus_dropped_total')).toEqual([
      'switchboard_bus_dropped_total 0',
    ]);

    bus.connected = false;
    bus.dropped = 7;
    text = await metrics.scrape();
    expect(samples(text, 'switchboard_bus_connected')).toEqual(['switchboard_bus_connected 0']);
    expect(samples(text, 'switchboard_bus_dropped_total')).toEqual([
      'switchboard_bus_dropped_total 7',
    ]);
  });

  it('reads the limits at scrape time', async () => {
    const text = await metrics.scrape();
    expect(samples(text, 'switchboard_connect_rate_failures_total')).toEqual([
      'switchboard_connect_rate_failures_total 0',
    ]);
    expect(samples(text, 'switchboard_pending_sockets')).toEqual(['switchboard_pending_sockets 0']);
    expect(samples(text, 'switchboard_pending_sockets_refused_total')).toEqual([
      'switchboard_pending_sockets_refused_total 0',
    ]);
  });

  it('includes the process metrics, in every instance (one registry each)', async () => {
    const other = new MetricsService(stats, connections, rooms, bus, limits, pending);
    for (const service of [metrics, other]) {
      expect(samples(await service.scrape(), 'process_cpu_seconds_total')).toHaveLength(1);
    }
  });
});
