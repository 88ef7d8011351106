import type { PresenceDiffData, SwitchboardClient } from '../../client/src/index.js';
import { startApp, type RunningApp } from '../support/app';
import { nodeClient, reach, waitUntil } from './support';

/** Presence through the client against the real server (in memory, one instance). */
describe('SwitchboardClient presence against the server', () => {
  let running: RunningApp;
  const clients: SwitchboardClient[] = [];

  beforeAll(async () => {
    running = await startApp({ RATE_LIMIT_MAX: '1000', PRESENCE_DIFF_MS: '20' });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await running?.close();
  });

  async function connected(): Promise<SwitchboardClient> {
    const client = nodeClient(`${running.wsUrl}/ws/json`);
    clients.push(client);
    await reach(client, 'open');
    return client;
  }

  it('asks who is here, and hears joins and leaves when subscribed with presence', async () => {
    const watcher = await connected();
    const diffs: PresenceDiffData[] = [];
    watcher.on('presence', (diff) => diffs.push(diff));
    await watcher.subscribe('doc-1', () => undefined, { presence: true });

    const visitor = await connected();
    const visit = await visitor.subscribe('doc-1', () => undefined);
    await waitUntil(() => diffs.flatMap((diff) => diff.joins).length >= 2, 'both joins');

    const present = await watcher.presence('doc-1');
    expect(present).toMatchObject({ channel: 'doc-1', clients: 2, users: 0 });
    expect(present.members).toHaveLength(2);
    const joined = diffs.flatMap((diff) => diff.joins);
    expect(joined).toHaveLength(2);
    expect(joined.every((member) => member.user === null)).toBe(true);

    await visit.unsubscribe();
    await waitUntil(() => diffs.some((diff) => diff.leaves.length > 0), 'the leave');
    const left = diffs.flatMap((diff) => diff.leaves);
    expect(left).toHaveLength(1);
    expect(present.members).toContainEqual(left[0]);
    expect((await watcher.presence('doc-1')).clients).toBe(1);
  });
});
