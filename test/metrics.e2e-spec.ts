import request from 'supertest';
import { startApp, useApp } from './support/app';
import { scrape, waitForSample, type Exposition } from './support/metrics';
import { refusedUpgradeStatus, TestClients } from './support/ws-client';

const ENDPOINTS = ['echo', 'chat', 'room', 'subscribe', 'secure', 'json'];
const RATE_LIMIT_MAX = 3;

/** Every Switchboard metric with its type. */
const METRICS: [string, string][] = [
  ['switchboard_connections', 'gauge'],
  ['switchboard_rooms', 'gauge'],
  ['switchboard_messages_received_total', 'counter'],
  ['switchboard_messages_sent_total', 'counter'],
  ['switchboard_rate_limited_total', 'counter'],
  ['switchboard_closes_total', 'counter'],
  ['switchboard_upgrades_refused_total', 'counter'],
  ['switchboard_slow_consumers_total', 'counter'],
  ['switchboard_bus_connected', 'gauge'],
  ['switchboard_bus_dropped_total', 'counter'],
];

/** The value of a sample that must exist (a missing one counts as a failure, not as 0). */
function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  const value = exposition.value(name, labels);
  if (value === undefined) throw new Error(`No sample ${name}${JSON.stringify(labels)}`);
  return value;
}

describe('GET /metrics', () => {
  const fixture = useApp({ RATE_LIMIT_MAX: String(RATE_LIMIT_MAX), RATE_LIMIT_WINDOW_MS: '60000' });
  const { clients } = fixture;

  it('answers in the Prometheus text format, with every metric declared', async () => {
    const response = await request(fixture.running.server).get('/metrics');
    expect(response.status).toBe(200);
    const contentType = response.headers['content-type'];
    expect(contentType.split(';')[0]).toBe('text/plain');
    expect(contentType).toMatch(/;\s*version=0\.0\.4(;|$)/);

    const exposition = await scrape(fixture.running.server);
    for (const [name, type] of METRICS) expect(exposition.types.get(name)).toBe(type);
  });

  it('has every per-endpoint series from boot, and the bus and room gauges', async () => {
    const exposition = await scrape(fixture.running.server);
    for (const endpoint of ENDPOINTS) {
      expect(valueOf(exposition, 'switchboard_connections', { endpoint })).toBe(0);
      for (const name of [
        'switchboard_messages_received_total',
        'switchboard_messages_sent_total',
        'switchboard_rate_limited_total',
      ]) {
        expect(exposition.value(name, { endpoint })).toBeGreaterThanOrEqual(0);
      }
    }
    expect(valueOf(exposition, 'switchboard_rooms')).toBe(0);
    expect(valueOf(exposition, 'switchboard_bus_connected')).toBe(1);
    expect(valueOf(exposition, 'switchboard_bus_dropped_total')).toBe(0);
    expect(valueOf(exposition, 'switchboard_slow_consumers_total')).toBe(0);
  });

  it('includes the default process metrics', async () => {
    const exposition = await scrape(fixture.running.server);
    expect(valueOf(exposition, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(exposition.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(valueOf(exposition, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(exposition.series('nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('counts open connections by endpoint and rooms with local members, back to 0 after', async () => {
    await clients.openAll(
      '/ws',
      '/ws/metrics-alice',
      '/ws/room/a',
      '/ws/room/a',
      '/ws/room/b',
      '/ws/subscribe/news',
      '/ws/json',
    );
    const open = { echo: 1, chat: 1, room: 3, subscribe: 1, secure: 0, json: 1 };
    for (const [endpoint, count] of Object.entries(open)) {
      await waitForSample(fixture.running.server, 'switchboard_connections', { endpoint }, count);
    }
    // The chat lobby and the channel are topics too, but not rooms.
    await waitForSample(fixture.running.server, 'switchboard_rooms', {}, 2);

    await clients.closeAll();
    for (const endpoint of ENDPOINTS) {
      await waitForSample(fixture.running.server, 'switchboard_connections', { endpoint }, 0);
    }
    await waitForSample(fixture.running.server, 'switchboard_rooms', {}, 0);
  });

  it('counts the messages of an echo session: received, sent and rate-limited', async () => {
    const before = await scrape(fixture.running.server);
    const echo = { endpoint: 'echo' };
    const delta = (after: Exposition, name: string, labels = echo) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    const client = await clients.open('/ws');
    for (const text of ['m1', 'm2', 'm3']) client.send(text);
    expect(await client.nextTexts(3)).toEqual(['Echo: m1', 'Echo: m2', 'Echo: m3']);

    let after = await scrape(fixture.running.server);
    expect(delta(after, 'switchboard_messages_received_total')).toBe(3);
    expect(delta(after, 'switchboard_messages_sent_total')).toBe(3);
    expect(delta(after, 'switchboard_rate_limited_total')).toBe(0);

    client.send('over the limit');
    expect(JSON.parse(await client.nextText())).toEqual({ error: 'Rate limit exceeded' });

    after = await scrape(fixture.running.server);
    expect(delta(after, 'switchboard_messages_received_total')).toBe(4);
    expect(delta(after, 'switchboard_messages_sent_total')).toBe(4); // the error is a frame too
    expect(delta(after, 'switchboard_rate_limited_total')).toBe(1);
    for (const endpoint of ENDPOINTS.filter((name) => name !== 'echo')) {
      expect(delta(after, 'switchboard_messages_received_total', { endpoint })).toBe(0);
    }
  });

  it('counts closes by the code the server saw', async () => {
    const before = await scrape(fixture.running.server);
    const closes = (code: string) => before.value('switchboard_closes_total', { code }) ?? 0;
    const expectCloses = (code: string, count: number) =>
      waitForSample(
        fixture.running.server,
        'switchboard_closes_total',
        { code },
        closes(code) + count,
      );

    const binary = await clients.open('/ws');
    binary.sendBinary(Buffer.from([1, 2, 3]));
    expect((await binary.closed()).code).toBe(1003);
    await expectCloses('1003', 1);

    const normal = await clients.open('/ws');
    normal.socket.close(1000);
    await normal.closed();
    await expectCloses('1000', 1);

    // A close frame without a status (ws's and browsers' close() with no code) is seen as 1005.
    const bare = await clients.open('/ws');
    await bare.close();
    await expectCloses('1005', 1);

    // Codes the server never uses share one label, so a client cannot add series.
    for (const code of [3000, 4000, 4999]) {
      const custom = await clients.open('/ws');
      custom.socket.close(code);
      await custom.closed();
    }
    await expectCloses('other', 3);
    const after = await scrape(fixture.running.server);
    expect(after.value('switchboard_closes_total', { code: '4000' })).toBeUndefined();
  });

  it('counts refused upgrades by status', async () => {
    const before = await scrape(fixture.running.server);
    const refused = before.value('switchboard_upgrades_refused_total', { status: '404' }) ?? 0;

    expect(await refusedUpgradeStatus(`${fixture.running.wsUrl}/nowhere`)).toBe(404);

    const after = await scrape(fixture.running.server);
    expect(valueOf(after, 'switchboard_upgrades_refused_total', { status: '404' })).toBe(
      refused + 1,
    );
  });

  it('keeps a registry per application: two apps in one process count apart', async () => {
    // A second app, started here: the point is two in one process.
    const other = await startApp();
    const otherClients = new TestClients(() => other.wsUrl);
    try {
      const before = await scrape(fixture.running.server);
      const client = await otherClients.open('/ws');
      client.send('elsewhere');
      expect(await client.nextText()).toBe('Echo: elsewhere');

      const mine = await scrape(fixture.running.server);
      const theirs = await scrape(other.server);
      expect(valueOf(theirs, 'switchboard_messages_received_total', { endpoint: 'echo' })).toBe(1);
      expect(valueOf(mine, 'switchboard_messages_received_total', { endpoint: 'echo' })).toBe(
        valueOf(before, 'switchboard_messages_received_total', { endpoint: 'echo' }),
      );
      expect(valueOf(theirs, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    } finally {
      await otherClients.closeAll();
      await other.close();
    }
  });
});
