import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { RunningApp } from '../support/app';
import { HistoryClient } from '../support/history-client';
import { describeWithRedisCluster } from '../support/redis-cluster';
import { TestClients } from '../support/ws-client';
import { instanceIdOf, startInstances, waitForReadiness } from './instances';

/**
 * Credentials on a Redis Cluster, given as URL seeds (REDIS_CLUSTER_NODES) the way REDIS_URL
 * gives them, and the README's ACL for an instance with its cluster additions: taken from the
 * README itself, so the documented grant is the tested one. The default user needs a password
 * the app is never told, so only the seeds' credentials can work.
 */
describeWithRedisCluster('credentials and the README ACL on a Redis Cluster', (cluster) => {
  const PASSWORD = 'sb-cluster-pass';
  let app: RunningApp;
  const onApp = new TestClients(() => app.wsUrl);

  beforeAll(async () => {
    const rules = readmeAcl();
    for (const node of cluster().nodes) {
      const admin = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
      try {
        await admin.call('ACL', 'SETUSER', 'switchboard', 'reset', ...rules(PASSWORD));
        // The connection in use stays authenticated; every new one must now say who it is.
        await admin.call('CONFIG', 'SET', 'requirepass', 'default-pass');
      } finally {
        admin.disconnect();
      }
    }
    const seeds = cluster()
      .nodes.map((node) => `redis://switchboard:${PASSWORD}@127.0.0.1:${node.port}`)
      .join(',');
    [app] = await startInstances(1, { REDIS_CLUSTER_NODES: seeds, REDIS_PREFIX: 'switchboard:' });
    await waitForReadiness(app, 200, 10_000);
  }, 30_000);

  afterEach(async () => {
    await onApp.closeAll();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('connects to every primary as the seeds’ user', async () => {
    const name = `switchboard-${instanceIdOf(app)}`;
    let primaries = 0;
    // The harness's own topology reads go unauthenticated: ask each node with the password here.
    for (const node of cluster().nodes) {
      const admin = new Redis(node.port, '127.0.0.1', { password: 'default-pass' });
      try {
        const [role] = (await admin.call('ROLE')) as [string];
        if (role !== 'master') continue;
        primaries++;
        const clients = String(await admin.call('CLIENT', 'LIST')).split('\n');
        // The command connection, and ioredis's sharded subscriber named after it.
        const ours = clients.filter((line) => line.includes(name));
        expect(ours).toHaveLength(2);
        for (const line of ours) expect(line).toContain(' user=switchboard ');
      } finally {
        admin.disconnect();
      }
    }
    expect(primaries).toBe(3);
  });

  it('publishes with history and delivers under that ACL', async () => {
    const client = new HistoryClient(await onApp.open('/ws/json'));
    const { epoch } = await client.subscribe('acl');
    expect(await client.publish('acl', 'granted')).toMatchObject({ epoch, offset: 1 });
    await client.readUntil(() => client.deliveries.length === 1);
    expect(client.deliveries).toEqual([{ channel: 'acl', message: 'granted', offset: 1 }]);
  });
});

/**
 * The README's `ACL SETUSER switchboard …` rules plus the `+…` rules its cluster paragraph adds,
 * with PASSWORD in place.
 */
function readmeAcl(): (password: string) => string[] {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const base = /ACL SETUSER switchboard (.+)/.exec(readme)?.[1];
  const cluster = /On a Redis Cluster[\s\S]*?\n\s*`(\+spublish[^`]+)`/.exec(readme)?.[1];
  if (base === undefined || cluster === undefined) {
    throw new Error('The README no longer has the instance ACL and its cluster additions');
  }
  const rules = [...base.trim().split(/\s+/), ...cluster.trim().split(/\s+/)];
  return (password) => rules.map((rule) => (rule === '>PASSWORD' ? `>${password}` : rule));
}
