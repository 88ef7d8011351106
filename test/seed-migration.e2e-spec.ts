import { useApp } from './support/app';
import { errorFrame, nextJson, reply, sendRequest } from './support/json-client';
import { refusedUpgradeStatus, type TestClient } from './support/ws-client';

/**
 * What a client written for the seed's FastAPI server sees differently here, one test per entry
 * of docs/protocol.md §12 ("Migrating from the seed's FastAPI server"), each sending what such a
 * client sends. Raw Redis publishers are covered by test/redis/envelope.e2e-spec.ts.
 */
describe("a seed client (docs/protocol.md, migrating from the seed's FastAPI server)", () => {
  describe('on the default limits', () => {
    const fixture = useApp();
    const { clients } = fixture;

    it('is refused after connecting, with 1008 and a reason, where the seed answered 403', async () => {
      const client = await clients.open('/ws/secure?token=not-a-jwt');
      expect(await client.closed()).toEqual({ code: 1008, reason: 'Token invalid' });
      expect(await refusedUpgradeStatus(`${fixture.running.wsUrl}/ws/room`)).toBe(404);
    });

    it('gets replies to the seed envelope {type, payload}, and an error instead of a drop', async () => {
      const json = await clients.open('/ws/json');
      json.send('{"type":"ping","payload":{}}');
      expect(await nextJson(json)).toEqual(reply('pong', {}));
      // The seed echoed the whole payload as `data`; here it is the channel only.
      // An undeclared field is ignored (`since` is no longer one: it resumes a channel).
      json.send('{"type":"subscribe","payload":{"channel":"news","seen":0},"id":1}');
      // With history on (the default) the reply also carries the channel's position.
      expect(await nextJson(json)).toMatchObject(reply('subscribed', { channel: 'news' }, 1));
      json.send('not json');
      expect(await nextJson(json)).toEqual(errorFrame('Invalid JSON'));
      json.send('{"type":"ping","payload":{},"id":2}');
      expect(await nextJson(json)).toEqual(reply('pong', {}, 2));
    });

    it('is rate-limited on chat too, with the seed’s error frame', async () => {
      const chat = await clients.open('/ws/alice');
      for (let i = 1; i <= 11; i++) chat.send(`m${i}`);
      const frames = await chat.nextTexts(11);
      expect(frames.slice(0, 10)).toEqual(
        Array.from({ length: 10 }, (_, i) => `Client alice: m${i + 1}`),
      );
      expect(frames[10]).toBe('{"error":"Rate limit exceeded"}');
    });

    it('is closed with 1009 for a message over 64 KiB, which the seed took', async () => {
      const echo = await clients.open('/ws');
      echo.send('x'.repeat(65_537));
      expect(await echo.closed()).toEqual({ code: 1009, reason: '' });
    });
  });

  describe('with heartbeats every 50 ms', () => {
    const { clients } = useApp({ HEARTBEAT_INTERVAL_MS: '50', RATE_LIMIT_MAX: '1000000' });

    /** Reads frames until the one carrying `id`, and returns it with the frames read before it. */
    async function readUntilReply(client: TestClient, id: number) {
      const before: unknown[] = [];
      for (;;) {
        const frame = (await nextJson(client)) as { id?: unknown };
        if (frame.id === id) return { reply: frame, before };
        before.push(frame);
      }
    }

    it('gets {"type":"ping","data":{}} without an id between requests, and tells replies by id', async () => {
      const json = await clients.open('/ws/json');
      const heartbeats: unknown[] = [];
      // A strict send-then-receive client would read one of these pings in place of a reply.
      // Request after request until two sweeps have passed (or a bound, if they never come).
      for (let id = 1; heartbeats.length < 2 && id <= 100_000; id++) {
        sendRequest(json, 'ping', undefined, id);
        const { reply: answer, before } = await readUntilReply(json, id);
        expect(answer).toEqual(reply('pong', {}, id));
        heartbeats.push(...before);
      }
      expect(heartbeats.length).toBeGreaterThanOrEqual(2);
      expect(heartbeats).toEqual(heartbeats.map(() => ({ type: 'ping', data: {} })));
    });
  });
});
