import type { SwitchboardClient } from '../../client/src/index.js';
import { describeWithRedis } from '../support/redis';
import {
  nodeClient,
  publishAcrossKill,
  reach,
  useTwoServerProcesses,
  waitUntil,
  type Acknowledged,
} from './support';

/**
 * The client's promise against two real server processes on one Redis: an instance killed
 * (SIGKILL) mid-stream costs a subscriber nothing. It reconnects to the other, resubscribes from
 * its last offset, and its handler sees every acknowledged publication exactly once, in order.
 */
describeWithRedis('client failover between two instances', (redis) => {
  const { a, b, jsonUrl } = useTwoServerProcesses(() => redis().url);
  const clients: SwitchboardClient[] = [];

  afterAll(() => {
    for (const client of clients) client.close();
  });

  it('receives every acknowledged publication exactly once, in order, across a kill', async () => {
    const subscriber = nodeClient([jsonUrl(a()), jsonUrl(b())]);
    const publisher = nodeClient(jsonUrl(b()));
    clients.push(subscriber, publisher);
    const states: string[] = [];
    subscriber.on('state', (state) => states.push(state));
    const gaps: string[] = [];
    subscriber.on('gap', ({ channel }) => gaps.push(channel));
    const received: Acknowledged[] = [];
    await subscriber.subscribe('failover', (message, offset) => received.push({ offset, message }));

    const TOTAL = 200;
    const acknowledged = await publishAcrossKill({
      publisher,
      channel: 'failover',
      total: TOTAL,
      killAt: 60,
      subscriberReceived: (count) =>
        waitUntil(() => received.length >= count, `${count} publications on A`),
      kill: () => a().kill(),
    });
    await waitUntil(() => received.length >= TOTAL, `all ${TOTAL} publications`);

    expect(received).toEqual(acknowledged);
    expect(acknowledged.map((p) => p.offset)).toEqual(
      Array.from({ length: TOTAL }, (_, i) => (acknowledged[0].offset ?? 0) + i),
    );
    expect(states).toEqual(['open', 'reconnecting', 'open']);
    expect(gaps).toEqual([]);
    await reach(subscriber, 'open');
  });
});
