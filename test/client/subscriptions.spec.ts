import type { JsonValue, SwitchboardClient } from '../../client/src/index.js';
import { onRequests, reply, ScriptedServer, type Request } from './scripted-server';
import { nodeClient, reach } from './support';

/**
 * Subscriptions across reconnects, against a scripted server that answers as docs/protocol.md
 * says the real one may: live frames racing the reply, recovered publications, recovered:false,
 * Insufficient state. (failover.spec.ts proves the same against real instances.)
 */
describe('SwitchboardClient subscriptions', () => {
  let server: ScriptedServer | undefined;
  let client: SwitchboardClient | undefined;

  afterEach(async () => {
    client?.close();
    await server?.close();
    client = server = undefined;
  });

  const isSubscribe = (frame: unknown) => (frame as Request).type === 'subscribe';
  const message = (channel: string, offset: number) => ({ channel, message: `m${offset}`, offset });

  function collector() {
    const seen: [JsonValue, number | undefined][] = [];
    let waiter: { count: number; resolve: () => void } | undefined;
    const handler = (value: JsonValue, offset: number | undefined) => {
      seen.push([value, offset]);
      if (waiter && seen.length >= waiter.count) waiter.resolve();
    };
    const until = (count: number) =>
      new Promise<void>((resolve, reject) => {
        if (seen.length >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`Only ${seen.length} messages`)), 5000);
        waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
      });
    return { seen, handler, until };
  }

  it('resubscribes with since after a reconnect and delivers recovered publications before held live ones, once each', async () => {
    server = await ScriptedServer.start((socket, n) =>
      onRequests(socket, (request) => {
        if (request.type !== 'subscribe') return;
        if (n === 1) {
          reply(socket, 'subscribed', { channel: 'c', epoch: 'E', offset: 2 }, request.id);
          reply(socket, 'message', message('c', 3));
          setTimeout(() => socket.terminate(), 10);
        } else {
          // A live frame overtaking the reply, and one the recovery also lists.
          reply(socket, 'message', message('c', 6));
          reply(socket, 'message', message('c', 5));
          reply(
            socket,
            'subscribed',
            {
              channel: 'c',
              epoch: 'E',
              offset: 5,
              recovered: true,
              publications: [3, 4, 5].map((o) => ({ offset: o, message: `m${o}` })),
            },
            request.id,
          );
          reply(socket, 'message', message('c', 7));
        }
      }),
    );
    client = nodeClient(server.url);
    const { seen, handler, until } = collector();
    const subscription = await client.subscribe('c', handler);
    await until(5);
    expect(seen).toEqual([3, 4, 5, 6, 7].map((o) => [`m${o}`, o]));
    expect(await server.frame(2, isSubscribe)).toMatchObject({
      payload: { channel: 'c', since: { offset: 3, epoch: 'E' } },
    });
    expect(subscription).toMatchObject({ epoch: 'E', offset: 7 });
  });

  it('raises gap when the server could not recover, and takes the new epoch', async () => {
    server = await ScriptedServer.start((socket, n) =>
      onRequests(socket, (request) => {
        if (n === 1) {
          reply(socket, 'subscribed', { channel: 'c', epoch: 'E', offset: 9 }, request.id);
          setTimeout(() => socket.close(1012), 10);
        } else {
          const publications = [{ offset: 1, message: 'new' }];
          reply(
            socket,
            'subscribed',
            { channel: 'c', epoch: 'F', offset: 1, recovered: false, publications },
            request.id,
          );
        }
      }),
    );
    client = nodeClient(server.url);
    const gaps: unknown[] = [];
    client.on('gap', (gap) => gaps.push(gap));
    const { seen, handler, until } = collector();
    const subscription = await client.subscribe('c', handler);
    await until(1);
    expect(seen).toEqual([['new', 1]]);
    expect(gaps).toEqual([{ channel: 'c', reason: 'not recovered' }]);
    expect(subscription).toMatchObject({ epoch: 'F', offset: 1 });
  });

  it('raises gap on Insufficient state and resubscribes with since', async () => {
    server = await ScriptedServer.start((socket) =>
      onRequests(socket, (request) => {
        if (request.payload.since === undefined) {
          reply(socket, 'subscribed', { channel: 'c', epoch: 'E', offset: 4 }, request.id);
          reply(socket, 'message', message('c', 5));
          reply(socket, 'unsubscribed', { channel: 'c', reason: 'Insufficient state' });
        } else {
          const publications = [{ offset: 7, message: 'm7' }];
          reply(
            socket,
            'subscribed',
            { channel: 'c', epoch: 'E', offset: 7, recovered: false, publications },
            request.id,
          );
        }
      }),
    );
    client = nodeClient(server.url);
    const gaps: unknown[] = [];
    client.on('gap', (gap) => gaps.push(gap));
    const { seen, handler, until } = collector();
    await client.subscribe('c', handler);
    await until(2);
    expect(seen).toEqual([
      ['m5', 5],
      ['m7', 7],
    ]);
    expect(server.received[0].filter(isSubscribe)[1]).toMatchObject({
      payload: { channel: 'c', since: { offset: 5, epoch: 'E' } },
    });
    expect(gaps).toEqual([
      { channel: 'c', reason: 'Insufficient state' },
      { channel: 'c', reason: 'not recovered' },
    ]);
    expect(server.connections).toBe(1);
  });

  it('stops delivering after unsubscribe and does not resubscribe on reconnect', async () => {
    server = await ScriptedServer.start((socket) =>
      onRequests(socket, (request) => {
        if (request.type === 'subscribe')
          reply(socket, 'subscribed', { channel: 'c', epoch: 'E', offset: 0 }, request.id);
        if (request.type === 'unsubscribe') {
          reply(socket, 'unsubscribed', { channel: 'c' }, request.id);
          reply(socket, 'message', message('c', 1));
          socket.close(1001);
        }
      }),
    );
    client = nodeClient(server.url);
    const { seen, handler } = collector();
    const subscription = await client.subscribe('c', handler);
    await subscription.unsubscribe();
    await reach(client, 'reconnecting');
    await reach(client, 'open');
    // Resubscriptions leave as the socket opens: a ping sent after that arrives after them.
    void client.ping().catch(() => undefined);
    await server.frame(2, (frame) => (frame as Request).type === 'ping');
    expect(seen).toEqual([]);
    expect(server.received[1]?.filter(isSubscribe) ?? []).toEqual([]);
  });
});
