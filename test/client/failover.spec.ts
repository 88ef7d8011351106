import type { JsonValue, SwitchboardClient } from '../../client/src/index.js';
import { describeWithRedis, uniquePrefix } from '../support/redis';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/server-process';
import { withTimeout } from '../support/wait';
import { nodeClient, reach, untilReady } from './support';

/**
 * The client's promise against two real server processes on one Redis: an instance killed
 * (SIGKILL) mid-stream costs a subscriber nothing. It reconnects to the other, resubscribes from
 * its last offset, and its handler sees every acknowledged publication exactly once, in order.
 */
describeWithRedis('client failover between two instances', (redis) => {
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  const clients: SwitchboardClient[] = [];

  beforeAll(async () => {
    ensureBuilt();
    const env = {
      REDIS_URL: redis().url,
      REDIS_PREFIX: uniquePrefix(),
      RATE_LIMIT_MAX: '1000000',
      HISTORY_SIZE: '1000',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    await Promise.all([untilReady(a.port), untilReady(b.port)]);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const server of [a, b]) server?.kill();
    await Promise.all([a?.exited, b?.exited]);
  });

  it('receives every acknowledged publication exactly once, in order, across a kill', async () => {
    const urlOf = (server?: ServerProcess) => `ws://127.0.0.1:${server?.port}/ws/json`;
    const subscriber = nodeClient([urlOf(a), urlOf(b)]);
    const publisher = nodeClient(urlOf(b));
    clients.push(subscriber, publisher);
    const states: string[] = [];
    subscriber.on('state', (state) => states.push(state));
    const gaps: string[] = [];
    subscriber.on('gap', ({ channel }) => gaps.push(channel));

    const received: { offset: number | undefined; message: JsonValue }[] = [];
    let onReceived = () => undefined as void;
    await subscriber.subscribe('failover', (message, offset) => {
      received.push({ offset, message });
      onReceived();
    });

    const TOTAL = 200;
    const KILL_AT = 60;
    const acknowledged: { offset: number | undefined; message: JsonValue }[] = [];
    for (let n = 1; n <= TOTAL; n++) {
      const reply = await publisher.publish('failover', { n });
      acknowledged.push({ offset: reply.offset, message: { n } });
      if (n === KILL_AT) {
        // Only once the subscriber is mid-stream on A.
        await withTimeout(
          new Promise<void>((resolve) => {
            onReceived = () => {
              if (received.length >= KILL_AT) resolve();
            };
            onReceived();
          }),
          5000,
          'the subscriber to receive the first publications',
        );
        a?.kill();
      }
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        onReceived = () => {
          if (received.length >= TOTAL) resolve();
        };
        onReceived();
      }),
      10_000,
      `all ${TOTAL} publications (got ${received.length})`,
    );
    expect(received).toEqual(acknowledged);
    expect(acknowledged.map((p) => p.offset)).toEqual(
      Array.from({ length: TOTAL }, (_, i) => (acknowledged[0].offset ?? 0) + i),
    );
    expect(states).toEqual(expect.arrayContaining(['reconnecting', 'open']));
    expect(gaps).toEqual([]);
    await reach(subscriber, 'open');
  });
});
