import { useApp } from './support/app';
import { FakeTime } from './support/fake-time';
import { errorFrame, nextJson, reply, sendRequest } from './support/json-client';
import { waitForValue } from './support/wait';
import type { TestClient } from './support/ws-client';

const PING = { type: 'ping', data: {} };

/**
 * What a client written for the seed's FastAPI server sees differently here, one test per entry
 * of docs/protocol.md §12 ("Migrating from the seed's FastAPI server"), each sending what such a
 * client sends. Raw Redis publishers are covered by test/redis/envelope.e2e-spec.ts.
 */
describe("a seed client (docs/protocol.md, migrating from the seed's FastAPI server)", () => {
  // Each test is one seed client's session, written with superwstest.
  describe('on the default limits', () => {
    const fixture = useApp();
    const isJson = (expected: unknown) => (actual: unknown) => {
      expect(actual).toEqual(expected);
    };

    it('is refused after connecting, with 1008 and a reason, where the seed answered 403', async () => {
      await fixture.request().ws('/ws/secure?token=not-a-jwt').expectClosed(1008, 'Token invalid');
      await fixture.request().ws('/ws/room').expectConnectionError(404);
    });

    it('gets replies to the seed envelope {type, payload}, and an error instead of a drop', async () => {
      await fixture
        .request()
        .ws('/ws/json')
        .sendText('{"type":"ping","payload":{}}')
        .expectJson(isJson(reply('pong', {})))
        // The seed echoed the whole payload as `data`; here it is the channel only. An undeclared
        // field is ignored (`since` is no longer one: it resumes a channel).
        .sendText('{"type":"subscribe","payload":{"channel":"news","seen":0},"id":1}')
        // With history on (the default) the reply also carries the channel's position.
        .expectJson((frame) =>
          expect(frame).toMatchObject(reply('subscribed', { channel: 'news' }, 1)),
        )
        .sendText('not json')
        .expectJson(isJson(errorFrame('Invalid JSON')))
        .sendText('{"type":"ping","payload":{},"id":2}')
        .expectJson(isJson(reply('pong', {}, 2)))
        .close()
        .expectClosed();
    });

    it('is rate-limited on chat too, with the seed’s error frame', async () => {
      let chat = fixture.request().ws('/ws/alice');
      for (let i = 1; i <= 11; i++) chat = chat.sendText(`m${i}`);
      for (let i = 1; i <= 10; i++) chat = chat.expectText(`Client alice: m${i}`);
      await chat.expectText('{"error":"Rate limit exceeded"}').close().expectClosed();
    });

    it('is closed with 1009 for a message over 64 KiB, which the seed took', async () => {
      await fixture.request().ws('/ws').sendText('x'.repeat(65_537)).expectClosed(1009, '');
    });
  });

  // The heartbeat runs on a fake time: each sweep is one `time.advance`, placed between two
  // requests, so the pings are bound to arrive where a strict client would trip on them.
  describe('with heartbeats (fake time)', () => {
    const INTERVAL_MS = 1000;
    const time = new FakeTime();
    const fixture = useApp({ HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) }, { time });
    const { clients } = fixture;

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
      for (let id = 1; id <= 3; id++) {
        // A strict send-then-receive client would read the sweep's ping in place of this reply.
        sendRequest(json, 'ping', undefined, id);
        const { reply: answer, before } = await readUntilReply(json, id);
        expect(answer).toEqual(reply('pong', {}, id));
        heartbeats.push(...before);
        // The protocol pong of the previous sweep is in before the next one.
        await waitForValue(() => [...fixture.connections][0]?.alive, true, 'the pong');
        time.advance(INTERVAL_MS);
      }
      const last = await nextJson(json);
      expect([...heartbeats, last]).toEqual([PING, PING, PING]);
    });
  });
});
