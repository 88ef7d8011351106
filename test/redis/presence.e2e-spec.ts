import { TokenSigner } from '../../src/auth/token-signer';
import { SystemClock } from '../../src/common/clock';
import type { Environment } from '../../src/config/load-config';
import { PresenceService } from '../../src/presence/presence.service';
import { nextJson, sendRequest, type JsonFrame } from '../support/json-client';
import { uniquePrefix } from '../support/redis';
import { describeWithEachRedis } from '../support/redis-deployment';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { waitForValue } from '../support/wait';
import { TestClient } from '../support/ws-client';
import { redisEnv } from './instances';
import { useTwoInstances } from './two-instances';

const JWT_SECRET = 'redis-presence-jwt-secret';
const signer = new TokenSigner({ secret: JWT_SECRET }, new SystemClock());
const BUS_SECRET = 'p'.repeat(32);

async function subscribe(client: TestClient, channel: string, presence = false): Promise<void> {
  sendRequest(client, 'subscribe', { channel, presence }, 's');
  expect(await nextJson(client)).toMatchObject({ type: 'subscribed', id: 's' });
}

async function presenceOf(client: TestClient, channel: string) {
  sendRequest(client, 'presence', { channel }, 'p');
  const frame = (await nextJson(client)) as JsonFrame;
  expect(frame.type).toBe('presence');
  return frame.data as { clients: number; users: number; members: { user: string | null }[] };
}

/** Reads presence_diff frames until `done` holds on the joins and leaves seen so far. */
async function diffsUntil(
  client: TestClient,
  done: (users: { joins: string[]; leaves: string[] }) => boolean,
  timeoutMs: number,
) {
  const seen = { joins: [] as string[], leaves: [] as string[], frames: 0 };
  while (!done(seen)) {
    const frame = (await nextJson(client, timeoutMs)) as JsonFrame;
    if (frame.type !== 'presence_diff') continue;
    const data = frame.data as { joins: { user: string }[]; leaves: { user: string }[] };
    seen.joins.push(...data.joins.map(({ user }) => user));
    seen.leaves.push(...data.leaves.map(({ user }) => user));
    seen.frames++;
  }
  return seen;
}

describeWithEachRedis('presence on Redis, two instances', (redis) => {
  const prefix = uniquePrefix();
  const instances = useTwoInstances((): Environment => ({
    ...redisEnv(redis().address, prefix),
    BUS_SECRET,
    JWT_SECRET,
    HISTORY_SIZE: '0',
    PRESENCE_DIFF_MS: '100',
  }));
  const open = (on: 'onA' | 'onB', sub: string) =>
    instances[on].open(`/ws/json?token=${signer.sign({ sub }, 60)}`);

  it('lists the members of both instances and sends their diffs to both', async () => {
    const watcherA = await open('onA', 'watcher-a');
    const watcherB = await open('onB', 'watcher-b');
    await subscribe(watcherA, 'room', true);
    await subscribe(watcherB, 'room', true);
    const alice = await open('onB', 'alice');
    await subscribe(alice, 'room');
    const everyone = ['alice', 'watcher-a', 'watcher-b'];
    for (const watcher of [watcherA, watcherB]) {
      const seen = await diffsUntil(watcher, ({ joins }) => joins.length >= 3, 3000);
      expect(seen.joins.sort()).toEqual(everyone);
    }
    const data = await presenceOf(watcherA, 'room');
    expect(data).toMatchObject({ clients: 3, users: 3 });
    expect(data.members.map(({ user }) => user).sort()).toEqual(everyone);

    await alice.close();
    for (const watcher of [watcherA, watcherB]) {
      const seen = await diffsUntil(watcher, ({ leaves }) => leaves.length >= 1, 3000);
      expect(seen.leaves).toEqual(['alice']);
    }
  });

  it('frees the Redis keys and the local state when a channel empties', async () => {
    const check = redis().observe();
    try {
      const a = await open('onA', 'x');
      const b = await open('onB', 'y');
      await subscribe(a, 'emptying');
      await subscribe(b, 'emptying');
      const keys = () => check.keys(`${prefix}presence:*emptying*`);
      expect((await keys()).sort()).toEqual([
        `${prefix}presence:{channel:emptying}:expiry`,
        `${prefix}presence:{channel:emptying}:members`,
      ]);
      await instances.onA.closeAll();
      await instances.onB.closeAll();
      const deadline = Date.now() + 2000;
      while ((await keys()).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await keys()).toEqual([]);
      for (const app of [instances.a(), instances.b()]) {
        const presence = app.app.get(PresenceService);
        await waitForValue(() => presence.footprint.channels, 0, 'local presence channels');
      }
    } finally {
      check.disconnect();
    }
  });
});

describeWithEachRedis('presence after an instance is killed (SIGKILL)', (redis) => {
  const TTL_SECONDS = 3;
  let survivor: ServerProcess | undefined;
  let victim: ServerProcess | undefined;
  const clients: TestClient[] = [];

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    survivor?.kill();
    victim?.kill();
    await Promise.all([survivor?.exited, victim?.exited]);
  });

  it(`removes the dead instance's members and sends their leaves within PRESENCE_TTL_SECONDS=${TTL_SECONDS}`, async () => {
    const env = {
      ...redisEnv(redis().address, uniquePrefix()),
      BUS_SECRET,
      JWT_SECRET,
      HISTORY_SIZE: '0',
      PRESENCE_TTL_SECONDS: String(TTL_SECONDS),
      PRESENCE_DIFF_MS: '100',
    };
    [survivor, victim] = await Promise.all([
      startServerProcess(env, 30_000, { entry: 'source' }),
      startServerProcess(env, 30_000, { entry: 'source' }),
    ]);
    const url = (server: ServerProcess, sub: string) =>
      `ws://127.0.0.1:${server.port}/ws/json?token=${signer.sign({ sub }, 60)}`;
    const watcher = await TestClient.open(url(survivor, 'watcher'));
    clients.push(watcher);
    await subscribe(watcher, 'doc', true);
    for (const sub of ['doomed-1', 'doomed-2']) {
      const client = await TestClient.open(url(victim, sub));
      clients.push(client);
      await subscribe(client, 'doc');
    }
    await diffsUntil(watcher, ({ joins }) => joins.length >= 3, 3000);
    expect((await presenceOf(watcher, 'doc')).clients).toBe(3);

    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    const seen = await diffsUntil(
      watcher,
      ({ leaves }) => leaves.length >= 2,
      TTL_SECONDS * 1000 + 1000,
    );
    const elapsed = Date.now() - killedAt;
    expect(seen.leaves.sort()).toEqual(['doomed-1', 'doomed-2']);
    // Leases of 2/3 TTL refreshed every 1/6: removed within 5/6 TTL, then two diff batches.
    expect(elapsed).toBeLessThanOrEqual(TTL_SECONDS * 1000);
    const data = await presenceOf(watcher, 'doc');
    expect(data).toMatchObject({ clients: 1, users: 1 });
  }, 60_000);
});
