import { useApp } from './support/app';
import {
  channelMessage,
  expectNothingElse,
  nextJson,
  reply,
  sendRequest,
} from './support/json-client';
import type { TestClient } from './support/ws-client';

/** 64 characters: the longest valid channel name. */
const CHANNEL_64 = 'A'.repeat(30) + 'z'.repeat(30) + '09_.';

describe('channels: /ws/subscribe/{channel} and /ws/json share one namespace', () => {
  // Channels without history: today's shapes. test/history.e2e-spec.ts covers the additive ones.
  const fixture = useApp({ RATE_LIMIT_MAX: '100000', HISTORY_SIZE: '0' });
  const { clients } = fixture;

  async function openJsonSubscriber(channel: string): Promise<TestClient> {
    const client = await clients.open('/ws/json');
    sendRequest(client, 'subscribe', { channel });
    expect(await nextJson(client)).toEqual(reply('subscribed', { channel }));
    return client;
  }

  describe('/ws/subscribe/{channel}', () => {
    it('delivers a text to every subscriber of the channel, the sender included, exactly once', async () => {
      const [a, b, c] = await clients.openAll(
        '/ws/subscribe/news',
        '/ws/subscribe/news',
        '/ws/subscribe/news',
      );
      const [other] = await clients.openAll('/ws/subscribe/sports');
      const text = 'breaking ✓ {"not":"parsed"}';

      a.send(text);
      for (const client of [a, b, c]) expect(await client.nextText()).toBe(text);

      // A duplicate on news, or a leak into sports, would arrive before these markers.
      b.send('marker-news');
      for (const client of [a, b, c]) expect(await client.nextText()).toBe('marker-news');
      other.send('marker-sports');
      expect(await other.nextText()).toBe('marker-sports');
      for (const client of [a, b, c]) expect(client.unread).toEqual([]);
    });

    it('keeps each sender’s texts verbatim and in order, the empty text included', async () => {
      const [a, b] = await clients.openAll('/ws/subscribe/order', '/ws/subscribe/order');
      const texts = ['1', '  padded  ', '', 'héllo 🚀', '{"type":"ping"}'];
      for (const text of texts) a.send(text);
      expect(await b.nextTexts(texts.length)).toEqual(texts);
      expect(await a.nextTexts(texts.length)).toEqual(texts);
    });

    it('accepts a 64-character channel and decodes a percent-encoded one', async () => {
      const [long] = await clients.openAll(`/ws/subscribe/${CHANNEL_64}`);
      long.send('long');
      expect(await long.nextText()).toBe('long');

      const [encoded, plain] = await clients.openAll('/ws/subscribe/a%3Ab', '/ws/subscribe/a:b');
      encoded.send('same channel');
      expect(await plain.nextText()).toBe('same channel');
      expect(await encoded.nextText()).toBe('same channel');
    });

    it('accepts a non-ASCII channel, the same channel whether written in NFC or decomposed', async () => {
      const [composed, decomposed] = await clients.openAll(
        '/ws/subscribe/caf%C3%A9',
        '/ws/subscribe/cafe%CC%81',
      );
      composed.send('same channel');
      expect(await decomposed.nextText()).toBe('same channel');
      expect(await composed.nextText()).toBe('same channel');
    });

    it.each([
      ['a space', '/ws/subscribe/a%20b'],
      ['65 characters', `/ws/subscribe/${CHANNEL_64}x`],
      ['a "!"', '/ws/subscribe/bad!'],
      ['a Redis glob character', '/ws/subscribe/news*'],
      ['an encoded "[" (Redis glob)', '/ws/subscribe/news%5B1%5D'],
      ['a control character', '/ws/subscribe/a%1Bb'],
      ['an encoded slash', '/ws/subscribe/a%2Fb'],
    ])('closes with 1008 "Invalid channel" for a channel with %s', async (_case, path) => {
      const client = await clients.open(path);
      expect(await client.closed()).toEqual({ code: 1008, reason: 'Invalid channel' });
      expect(client.unread).toEqual([]);
    });
  });

  describe('across endpoints', () => {
    it('delivers a text published on /ws/subscribe/c to a JSON subscriber of c as a message', async () => {
      const json = await openJsonSubscriber('c');
      const elsewhere = await openJsonSubscriber('d');
      const [text] = await clients.openAll('/ws/subscribe/c');

      text.send('the text');
      expect(await nextJson(json)).toEqual({
        type: 'message',
        data: { channel: 'c', message: 'the text' },
      });
      expect(await text.nextText()).toBe('the text');

      // A text that looks like JSON is still a string to JSON subscribers.
      text.send('{"a":1}');
      expect(await nextJson(json)).toEqual(channelMessage('c', '{"a":1}'));
      expect(await text.nextText()).toBe('{"a":1}');

      await expectNothingElse(json);
      await expectNothingElse(elsewhere);
    });

    it.each<[string, unknown, string]>([
      ['a string as itself', 'the text', 'the text'],
      ['an empty string as an empty text', '', ''],
      ['a string that looks like JSON as itself', '{"a":1}', '{"a":1}'],
      ['an object as JSON text', { a: 1 }, '{"a":1}'],
      ['a nested object as JSON text', { a: [1, { b: null }] }, '{"a":[1,{"b":null}]}'],
      ['an array as JSON text', [1, 'x'], '[1,"x"]'],
      ['a number as JSON text', 42, '42'],
      ['a fraction as JSON text', -1.5, '-1.5'],
      ['null as JSON text', null, 'null'],
      ['true as JSON text', true, 'true'],
      ['false as JSON text', false, 'false'],
    ])('delivers a JSON publish of %s to /ws/subscribe/c', async (_case, message, expected) => {
      const [subscriber, other] = await clients.openAll('/ws/subscribe/c', '/ws/subscribe/d');
      const publisher = await clients.open('/ws/json');

      sendRequest(publisher, 'publish', { channel: 'c', message }, 1);
      expect(await nextJson(publisher)).toEqual(reply('published', { channel: 'c' }, 1));
      expect(await subscriber.nextText()).toBe(expected);

      subscriber.send('marker-c');
      expect(await subscriber.nextText()).toBe('marker-c');
      other.send('marker-d');
      expect(await other.nextText()).toBe('marker-d');
    });

    it('stops JSON delivery after unsubscribe while text subscribers keep receiving', async () => {
      const json = await openJsonSubscriber('shared');
      const [text] = await clients.openAll('/ws/subscribe/shared');

      sendRequest(json, 'unsubscribe', { channel: 'shared' }, 2);
      expect(await nextJson(json)).toEqual(reply('unsubscribed', { channel: 'shared' }, 2));
      text.send('after');
      expect(await text.nextText()).toBe('after');
      await expectNothingElse(json);
    });

    it('keeps channels apart from rooms with the same name', async () => {
      const [room] = await clients.openAll('/ws/room/same');
      const [channel] = await clients.openAll('/ws/subscribe/same');
      const [roomPeer] = await clients.openAll('/ws/room/same');

      channel.send('to the channel');
      expect(await channel.nextText()).toBe('to the channel');
      roomPeer.send('to the room');
      expect(await room.nextText()).toBe('to the room');
      channel.send('marker');
      expect(await channel.nextText()).toBe('marker');
    });
  });
});
