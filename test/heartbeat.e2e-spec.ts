import { useApp } from './support/app';
import { FakeTime } from './support/fake-time';
import { PingCounter, UnresponsivePeer } from './support/heartbeat-peers';
import { nextJsons } from './support/json-client';
import { waitForValue } from './support/wait';

const INTERVAL_MS = 1000;

const ENDPOINTS = [
  ['echo', '/ws'],
  ['chat', '/ws/heartbeat-client'],
  ['room', '/ws/room/heartbeat'],
  ['subscribe', '/ws/subscribe/heartbeat'],
  ['json', '/ws/json'],
] as const;

const JSON_PING = { type: 'ping', data: {} };

// The sweeps run on a fake time: each `sweep()` is exactly one HEARTBEAT_INTERVAL_MS, so the
// tests count sweeps instead of sleeping and allowing for timer lag.
describe(`heartbeat (HEARTBEAT_INTERVAL_MS=${INTERVAL_MS}, fake time)`, () => {
  const time = new FakeTime();
  const fixture = useApp({ HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) }, { time });
  const { clients } = fixture;
  const silentPeers: UnresponsivePeer[] = [];

  afterEach(() => {
    for (const peer of silentPeers.splice(0)) peer.terminate();
  });

  const sweep = () => time.advance(INTERVAL_MS);
  /** Waits until the server has seen a pong from `count` of its connections. */
  const answered = (count: number) =>
    waitForValue(
      () => [...fixture.connections].filter((connection) => connection.alive).length,
      count,
      'the number of connections that answered the last ping',
    );

  it.each(ENDPOINTS)('%s keeps a client that answers pings', async (name, path) => {
    const client = await clients.open(path);
    const pings = new PingCounter(client.socket);

    // Every sweep after the first would have terminated it had its pongs not counted.
    for (let round = 1; round <= 3; round++) {
      sweep();
      await pings.waitFor(round);
      await answered(1);
    }
    expect(client.isOpen).toBe(true);

    if (name === 'json') {
      // Each sweep also writes an application-level ping after the protocol one: one per sweep.
      expect(await nextJsons(client, 3)).toEqual([JSON_PING, JSON_PING, JSON_PING]);
    }
    // Whatever a sweep wrote arrived before the next sweep's protocol ping.
    expect(client.unread).toEqual([]);
  });

  it.each(ENDPOINTS)(
    '%s terminates a client that does not answer pings, by the next sweep',
    async (_name, path) => {
      const peer = await UnresponsivePeer.open(`${fixture.running.wsUrl}${path}`);
      silentPeers.push(peer);

      sweep();
      await peer.pings.waitFor(1);
      expect(fixture.connections.size).toBe(1);

      sweep();
      // Terminated, not closed: no close frame, so the client sees 1006.
      expect((await peer.closed()).code).toBe(1006);
      // By the very sweep after the one whose ping it left unanswered.
      expect(peer.pings.count).toBe(1);
      await waitForValue(() => fixture.connections.size, 0, 'the number of open connections');
    },
  );

  it('sends {"type":"ping","data":{}} on /ws/json once per sweep', async () => {
    const client = await clients.open('/ws/json');
    const pings = new PingCounter(client.socket);

    for (let round = 1; round <= 4; round++) {
      sweep();
      await pings.waitFor(round);
      await answered(1);
    }
    expect(await nextJsons(client, 4)).toEqual(Array.from({ length: 4 }, () => JSON_PING));
    expect(pings.count).toBe(4);
  });

  it('terminates only the silent peer among clients of the same room', async () => {
    const [live, other] = await clients.openAll('/ws/room/mixed', '/ws/room/mixed');
    const peer = await UnresponsivePeer.open(`${fixture.running.wsUrl}/ws/room/mixed`);
    silentPeers.push(peer);
    const pings = new PingCounter(live.socket);

    sweep();
    await Promise.all([pings.waitFor(1), peer.pings.waitFor(1)]);
    await answered(2);

    sweep();
    expect((await peer.closed()).code).toBe(1006);
    await pings.waitFor(2);
    live.send('still relaying');
    expect(await other.nextText()).toBe('still relaying');
    await waitForValue(() => fixture.connections.size, 2, 'the number of open connections');
  });
});
