import { ConnectionRegistry } from '../src/connections/connection-registry';
import { startApp, type RunningApp } from './support/app';
import { PingCounter, UnresponsivePeer } from './support/heartbeat-peers';
import { nextJsons } from './support/json-client';
import { waitForValue } from './support/wait';
import { TestClients } from './support/ws-client';

const INTERVAL_MS = 100;
/**
 * A silent peer is pinged by the first sweep after it connects and terminated by the next one,
 * so at most two intervals after connecting; the extra interval absorbs timer lag under load.
 */
const TERMINATED_WITHIN_MS = 3 * INTERVAL_MS + 100;

const ENDPOINTS = [
  ['echo', '/ws'],
  ['chat', '/ws/heartbeat-client'],
  ['room', '/ws/room/heartbeat'],
  ['subscribe', '/ws/subscribe/heartbeat'],
  ['json', '/ws/json'],
] as const;

describe(`heartbeat (HEARTBEAT_INTERVAL_MS=${INTERVAL_MS})`, () => {
  let running: RunningApp;
  let connections: ConnectionRegistry;
  const clients = new TestClients(() => running.wsUrl);
  const silentPeers: UnresponsivePeer[] = [];

  beforeAll(async () => {
    running = await startApp({ HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) });
    connections = running.app.get(ConnectionRegistry);
  });

  afterEach(async () => {
    for (const peer of silentPeers.splice(0)) peer.terminate();
    await clients.closeAll();
    await waitForValue(() => connections.size, 0, 'the number of open connections');
  });

  afterAll(async () => {
    await running.close();
  });

  it.each(ENDPOINTS)('%s keeps a client that answers pings', async (name, path) => {
    const client = await clients.open(path);
    const pings = new PingCounter(client.socket);

    // Every sweep after the first would have terminated it had its pongs not counted.
    await pings.waitFor(3);
    expect(client.isOpen).toBe(true);

    // Whatever the first two sweeps wrote arrived before the third protocol ping.
    const frames = client.unread.map((frame) => JSON.parse(frame.data.toString()) as unknown);
    if (name === 'json') {
      // Each sweep also writes an application-level ping after the protocol one.
      expect(frames.length).toBeGreaterThanOrEqual(2);
      expect(frames).toEqual(frames.map(() => ({ type: 'ping', data: {} })));
    } else {
      expect(frames).toEqual([]);
    }
  });

  it.each(ENDPOINTS)(
    `%s terminates a client that does not answer pings within ${TERMINATED_WITHIN_MS} ms`,
    async (_name, path) => {
      const peer = await UnresponsivePeer.open(`${running.wsUrl}${path}`);
      silentPeers.push(peer);

      // Terminated, not closed: no close frame, so the client sees 1006.
      expect((await peer.closed(TERMINATED_WITHIN_MS)).code).toBe(1006);
      // By the very sweep after the one whose ping it left unanswered.
      expect(peer.pings.count).toBe(1);
      await waitForValue(() => connections.size, 0, 'the number of open connections');
    },
  );

  it('sends {"type":"ping","data":{}} on /ws/json once per interval', async () => {
    const client = await clients.open('/ws/json');
    const pings = new PingCounter(client.socket);

    const frames = await nextJsons(client, 4, 2 * INTERVAL_MS + 100);
    expect(frames).toEqual(Array.from({ length: 4 }, () => ({ type: 'ping', data: {} })));
    // One application-level ping per sweep: as many as protocol pings, give or take the one
    // in flight.
    expect(Math.abs(pings.count - frames.length)).toBeLessThanOrEqual(1);
  });

  it('terminates only the silent peer among clients of the same room', async () => {
    const [live, other] = await clients.openAll('/ws/room/mixed', '/ws/room/mixed');
    const peer = await UnresponsivePeer.open(`${running.wsUrl}/ws/room/mixed`);
    silentPeers.push(peer);
    const pings = new PingCounter(live.socket);

    expect((await peer.closed(TERMINATED_WITHIN_MS)).code).toBe(1006);
    await pings.waitFor(pings.count + 2);
    live.send('still relaying');
    expect(await other.nextText()).toBe('still relaying');
    await waitForValue(() => connections.size, 2, 'the number of open connections');
  });
});
