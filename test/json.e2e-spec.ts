import { useApp } from './support/app';
import {
  channelMessage,
  envelope,
  errorFrame,
  expectNothingElse,
  nextJson,
  nextJsons,
  reply,
  sendRequest,
  validationFailed,
  type JsonFrame,
  type RequestId,
} from './support/json-client';
import type { TestClient } from './support/ws-client';

/** 64 characters using every allowed kind: the longest valid channel name. */
const CHANNEL_64 = 'A'.repeat(20) + 'z'.repeat(20) + '0123456789' + '_.:-'.repeat(3) + 'ab';

/** Channel names that break the id rule (src/protocol/ids.ts), or no string. */
const BAD_CHANNELS: [string, unknown][] = [
  ['an empty string', ''],
  ['65 characters', `${CHANNEL_64}x`],
  ['a space', 'a b'],
  ['a slash', 'a/b'],
  ['a control character', 'a\u001bb'],
  ['a Redis glob character', 'news*'],
  ['a leading combining mark', '\u0301a'],
  ['a "#"', 'news#1'],
  ['a number', 42],
  ['null', null],
  ['an object', { name: 'a' }],
];

describe('/ws/json', () => {
  // The bursts below are about ordering and subscription limits, not the rate limit.
  // Channels without history: today's shapes. test/history.e2e-spec.ts covers the additive ones.
  const fixture = useApp({ RATE_LIMIT_MAX: '100000', HISTORY_SIZE: '0' });
  const { clients } = fixture;

  const openJson = () => clients.open('/ws/json');

  /** Sends `type` with `payload` and `id`, and expects exactly `expected` as the next frame. */
  async function expectReply(
    client: TestClient,
    [type, payload, id]: [string, unknown?, RequestId?],
    expected: JsonFrame,
  ): Promise<void> {
    sendRequest(client, type, payload, id);
    expect(await nextJson(client)).toEqual(expected);
  }

  /**
   * On a fresh /ws/json, through superwstest: sends each request in turn and expects exactly its
   * reply as the next frame.
   */
  async function expectReplies(
    ...exchanges: [[string, unknown?, RequestId?], JsonFrame][]
  ): Promise<void> {
    let chain = fixture.request().ws('/ws/json');
    for (const [[type, payload, id], expected] of exchanges) {
      chain = chain.sendText(envelope(type, payload, id)).expectJson((actual) => {
        expect(actual).toEqual(expected);
      });
    }
    await chain.close().expectClosed();
  }

  async function subscribe(client: TestClient, channel: string): Promise<void> {
    await expectReply(client, ['subscribe', { channel }], reply('subscribed', { channel }));
  }

  describe('ping and pong', () => {
    it('answers ping with {"type":"pong","data":{}}', async () => {
      await expectReplies([['ping'], { type: 'pong', data: {} }]);
    });

    it.each<[string, RequestId]>([
      ['the number 7', 7],
      ['the string "abc"', 'abc'],
      ['0', 0],
      ['an empty string', ''],
      ['a negative fraction', -1.5],
    ])('echoes %s as the id of the pong', async (_case, id) => {
      await expectReplies([['ping', undefined, id], { type: 'pong', data: {}, id }]);
    });

    it('ignores a payload on ping', async () => {
      await expectReplies([['ping', { any: ['thing'] }, 1], reply('pong', {}, 1)]);
    });

    it('sends nothing back for pong, with or without an id', async () => {
      const client = await openJson();
      sendRequest(client, 'pong');
      sendRequest(client, 'pong', undefined, 5);
      sendRequest(client, 'pong', { any: 'payload' }, 'x');
      // Replies keep request order: a reply to any pong would come before this ping's pong.
      await expectNothingElse(client, 'after-pongs');
    });
  });

  describe('subscribe and unsubscribe', () => {
    it('confirms both with the channel, echoing the id', async () => {
      await expectReplies(
        [
          ['subscribe', { channel: 'news' }, 1],
          { type: 'subscribed', data: { channel: 'news' }, id: 1 },
        ],
        [
          ['unsubscribe', { channel: 'news' }, 'u-1'],
          { type: 'unsubscribed', data: { channel: 'news' }, id: 'u-1' },
        ],
        [['subscribe', { channel: 'news' }], { type: 'subscribed', data: { channel: 'news' } }],
      );
    });

    it.each([
      ['64 characters of every allowed kind', CHANNEL_64],
      ['a single character', 'x'],
      ['only punctuation', '_.:-@+'],
      ['an e-mail address', 'bob@example.com'],
      ['a non-ASCII letter', 'café'],
    ])('accepts a channel of %s', async (_case, channel) => {
      const [subscriber, publisher] = await clients.openAll('/ws/json', '/ws/json');
      await subscribe(subscriber, channel);
      await expectReply(
        publisher,
        ['publish', { channel, message: 'hi' }, 2],
        reply('published', { channel }, 2),
      );
      expect(await nextJson(subscriber)).toEqual(channelMessage(channel, 'hi'));
    });

    it('uses the NFC form of a decomposed channel name, the one /ws/subscribe/{channel} gets', async () => {
      const [json, text] = await clients.openAll('/ws/json', '/ws/subscribe/caf%C3%A9');
      await expectReply(
        json,
        ['subscribe', { channel: 'cafe\u0301' }, 1],
        reply('subscribed', { channel: 'café' }, 1),
      );
      text.send('from the text endpoint');
      expect(await text.nextText()).toBe('from the text endpoint');
      expect(await nextJson(json)).toEqual(channelMessage('café', 'from the text endpoint'));
      sendRequest(json, 'publish', { channel: 'cafe\u0301', message: 'from json' }, 2);
      expect(await nextJsons(json, 2)).toEqual([
        channelMessage('café', 'from json'),
        reply('published', { channel: 'café' }, 2),
      ]);
      expect(await text.nextText()).toBe('from json');
    });

    it('delivers to a subscriber until it unsubscribes, then nothing more from that channel', async () => {
      const [subscriber, publisher] = await clients.openAll('/ws/json', '/ws/json');
      await subscribe(subscriber, 'c');

      await expectReply(
        publisher,
        ['publish', { channel: 'c', message: 'first' }],
        reply('published', { channel: 'c' }),
      );
      expect(await nextJson(subscriber)).toEqual(channelMessage('c', 'first'));

      await expectReply(
        subscriber,
        ['unsubscribe', { channel: 'c' }, 9],
        reply('unsubscribed', { channel: 'c' }, 9),
      );
      await expectReply(
        publisher,
        ['publish', { channel: 'c', message: 'second' }],
        reply('published', { channel: 'c' }),
      );
      // The delivery of "second" would have been written before "published" was.
      await expectNothingElse(subscriber);

      // Its own publish does not come back either.
      await expectReply(
        subscriber,
        ['publish', { channel: 'c', message: 'third' }, 3],
        reply('published', { channel: 'c' }, 3),
      );
      await expectNothingElse(subscriber);
    });

    it('is idempotent: a second subscribe still delivers once; unsubscribing an unknown channel is confirmed', async () => {
      const client = await openJson();
      await subscribe(client, 'twice');
      await subscribe(client, 'twice');
      await expectReply(
        client,
        ['unsubscribe', { channel: 'never-joined' }, 4],
        reply('unsubscribed', { channel: 'never-joined' }, 4),
      );

      sendRequest(client, 'publish', { channel: 'twice', message: 1 }, 5);
      const frames = await nextJsons(client, 2);
      expect(frames).toHaveLength(2);
      expect(frames).toEqual(
        expect.arrayContaining([
          channelMessage('twice', 1),
          reply('published', { channel: 'twice' }, 5),
        ]),
      );
      await expectNothingElse(client);
    });
  });

  describe('publish', () => {
    it.each<[string, unknown]>([
      ['an object', { text: 'hi', nested: { list: [1, 'two', null, false] } }],
      ['an empty object', {}],
      // Keys that prototype-pollution guards strip must survive: the message is opaque data.
      [
        'an object with "constructor" and "prototype" keys',
        { constructor: 'c', prototype: 1, inner: [{ constructor: { b: 1 } }] },
      ],
      ['an array', [1, 'two', { three: 3 }, [null]]],
      ['an empty array', []],
      ['an integer', 42],
      ['zero', 0],
      ['a fraction', -12.5],
      ['a string', 'héllo ✓ "quoted"'],
      ['an empty string', ''],
      ['null', null],
      ['true', true],
      ['false', false],
    ])(
      'delivers %s unchanged to every subscriber, the sender too, and to no one else',
      async (_case, message) => {
        const [sender, subscriber, bystander, elsewhere] = await clients.openAll(
          '/ws/json',
          '/ws/json',
          '/ws/json',
          '/ws/json',
        );
        await subscribe(sender, 'room-1');
        await subscribe(subscriber, 'room-1');
        await subscribe(elsewhere, 'room-2');

        sendRequest(sender, 'publish', { channel: 'room-1', message }, 7);

        // The delivery to the sender is not a reply to its request: it carries no id.
        const senderFrames = await nextJsons(sender, 2);
        expect(senderFrames).toHaveLength(2);
        expect(senderFrames).toEqual(
          expect.arrayContaining([
            { type: 'published', data: { channel: 'room-1' }, id: 7 },
            { type: 'message', data: { channel: 'room-1', message } },
          ]),
        );
        expect(await nextJson(subscriber)).toEqual({
          type: 'message',
          data: { channel: 'room-1', message },
        });
        for (const client of [sender, subscriber, bystander, elsewhere]) {
          await expectNothingElse(client);
        }
      },
    );

    it('confirms a publish to a sender that is not subscribed, without delivering to it', async () => {
      const [sender, subscriber] = await clients.openAll('/ws/json', '/ws/json');
      await subscribe(subscriber, 'one-way');

      await expectReply(
        sender,
        ['publish', { channel: 'one-way', message: { a: 1 } }, 'p'],
        reply('published', { channel: 'one-way' }, 'p'),
      );
      expect(await nextJson(subscriber)).toEqual(channelMessage('one-way', { a: 1 }));
      await expectNothingElse(sender);
      await expectNothingElse(subscriber);
    });

    it('confirms a publish to a channel nobody is subscribed to', async () => {
      await expectReplies([
        ['publish', { channel: 'empty', message: 'x' }],
        reply('published', { channel: 'empty' }),
      ]);
    });
  });

  describe('errors, each answered on a connection that stays open', () => {
    /**
     * Sends `text` as is, expects `expected`, then proves the connection still serves requests
     * (superwstest).
     */
    async function expectError(text: string, expected: JsonFrame): Promise<void> {
      await fixture
        .request()
        .ws('/ws/json')
        .sendText(text)
        .expectJson((actual) => {
          expect(actual).toEqual(expected);
        })
        .sendText(envelope('ping', undefined, 'still-open'))
        .expectJson((actual) => {
          expect(actual).toEqual(reply('pong', {}, 'still-open'));
        })
        .close()
        .expectClosed();
    }

    it.each<[string, RequestId | undefined]>([
      ['nope', undefined],
      ['nope', 11],
      ['nope', 'id-x'],
      ['PING', 12],
      ['message', 13],
      ['published', 14],
      ['error', 15],
      ['constructor', 16],
      ['__proto__', 17],
      ['hasOwnProperty', 18],
    ])('answers the unknown type %p (id %p) with "Unknown type"', async (type, id) => {
      await expectError(envelope(type, { channel: 'c' }, id), errorFrame('Unknown type', id));
    });

    it.each([
      ['not JSON at all', 'hello'],
      ['an unterminated object', '{"type":"ping"'],
      ['a trailing comma', '{"type":"ping","id":1,}'],
      ['single quotes', "{'type':'ping'}"],
      ['an empty frame', ''],
    ])('answers %s with "Invalid JSON"', async (_case, text) => {
      await expectError(text, { type: 'error', data: { message: 'Invalid JSON' } });
    });

    it.each([
      ['an array', '[{"type":"ping","id":1}]'],
      ['an empty array', '[]'],
      ['a number', '42'],
      ['a string', '"ping"'],
      ['null', 'null'],
      ['a boolean', 'true'],
    ])('answers %s instead of an object with "Validation failed"', async (_case, text) => {
      await expectError(text, validationFailed());
    });

    it.each<[string, object, RequestId | undefined]>([
      ['no type', { payload: { channel: 'c' } }, undefined],
      ['no type, with an id', { id: 3 }, 3],
      ['an empty type', { type: '', id: 'e' }, 'e'],
      ['a numeric type', { type: 5, id: 4 }, 4],
      ['a null type', { type: null, id: 0 }, 0],
    ])('answers %s with "Validation failed" naming the type', async (_case, value, id) => {
      await expectError(JSON.stringify(value), validationFailed(id, 'type'));
    });

    describe.each(['subscribe', 'unsubscribe', 'publish'])('%s', (type) => {
      const payloadWith = (channel: unknown) =>
        type === 'publish' ? { channel, message: 'm' } : { channel };

      it.each(BAD_CHANNELS)(
        'answers a channel of %s with "Validation failed" naming the channel',
        async (_case, channel) => {
          await expectError(
            envelope(type, payloadWith(channel), 21),
            validationFailed(21, 'channel'),
          );
        },
      );

      it.each<[string, unknown]>([
        ['no payload', undefined],
        ['a null payload', null],
        ['an empty payload', {}],
        ['a string payload', 'c'],
        ['an array payload', [{ channel: 'c', message: 'm' }]],
      ])('answers %s with "Validation failed" naming the channel', async (_case, payload) => {
        await expectError(envelope(type, payload, 'v'), validationFailed('v', 'channel'));
        await expectError(envelope(type, payload), validationFailed(undefined, 'channel'));
      });
    });

    it('answers a publish without a message with "Validation failed" naming the message', async () => {
      await expectError(envelope('publish', { channel: 'c' }, 31), validationFailed(31, 'message'));
    });

    it('does not deliver a publish that failed validation', async () => {
      const [subscriber, sender] = await clients.openAll('/ws/json', '/ws/json');
      await subscribe(subscriber, 'guarded');
      await expectReply(
        sender,
        ['publish', { channel: 'guarded' }, 1],
        validationFailed(1, 'message'),
      );
      await expectNothingElse(subscriber);
    });
  });

  it('answers a burst of mixed requests in request order, across async validation', async () => {
    const client = await openJson();
    const requests: string[] = [];
    const expected: JsonFrame[] = [];
    // 100 requests: more than the transport lets queue up before it pauses the socket.
    for (let id = 1; requests.length < 100; id++) {
      const channel = `burst-${id}`;
      switch (id % 9) {
        case 0:
          requests.push(envelope('ping', undefined, id));
          expected.push(reply('pong', {}, id));
          break;
        case 1:
          requests.push(envelope('subscribe', { channel }, id));
          expected.push(reply('subscribed', { channel }, id));
          break;
        case 2:
          requests.push(envelope('subscribe', { channel: 'bad channel' }, id));
          expected.push(validationFailed(id, 'channel'));
          break;
        case 3:
          requests.push(envelope('nope', undefined, id));
          expected.push(errorFrame('Unknown type', id));
          break;
        case 4:
          requests.push(envelope('publish', { channel: 'burst-elsewhere', message: id }, id));
          expected.push(reply('published', { channel: 'burst-elsewhere' }, id));
          break;
        case 5:
          requests.push(`{"type":"ping","id":${id}`);
          expected.push(errorFrame('Invalid JSON'));
          break;
        case 6:
          requests.push(JSON.stringify({ id }));
          expected.push(validationFailed(id, 'type'));
          break;
        case 7:
          requests.push(envelope('pong', undefined, id)); // answered by nothing
          break;
        case 8:
          requests.push(envelope('unsubscribe', { channel: `burst-${id - 7}` }, String(id)));
          expected.push(reply('unsubscribed', { channel: `burst-${id - 7}` }, String(id)));
          break;
      }
    }

    for (const request of requests) client.send(request);

    expect(await nextJsons(client, expected.length)).toEqual(expected);
    await expectNothingElse(client, 'end-of-burst');
  });

  it('closes with 1003 on a binary frame', async () => {
    const client = await openJson();
    client.sendBinary(Buffer.from(envelope('ping', undefined, 1)));
    expect((await client.closed()).code).toBe(1003);
    expect(client.unread).toEqual([]);
  });

  it('refuses a 101st subscription with "Too many subscriptions" and keeps the first 100', async () => {
    const [client, publisher] = await clients.openAll('/ws/json', '/ws/json');
    for (let id = 1; id <= 101; id++) sendRequest(client, 'subscribe', { channel: `s-${id}` }, id);

    const replies = await nextJsons(client, 101);
    expect(replies.slice(0, 100)).toEqual(
      Array.from({ length: 100 }, (_, i) => reply('subscribed', { channel: `s-${i + 1}` }, i + 1)),
    );
    expect(replies[100]).toEqual({
      type: 'error',
      data: { message: 'Too many subscriptions' },
      id: 101,
    });

    // The refused channel was not half-joined; the others still deliver.
    await expectReply(
      publisher,
      ['publish', { channel: 's-101', message: 'lost' }],
      reply('published', { channel: 's-101' }),
    );
    await expectNothingElse(client);
    await expectReply(
      publisher,
      ['publish', { channel: 's-100', message: 'kept' }],
      reply('published', { channel: 's-100' }),
    );
    expect(await nextJson(client)).toEqual(channelMessage('s-100', 'kept'));

    // Subscribing again to a channel it holds is not a new subscription.
    await expectReply(client, ['subscribe', { channel: 's-1' }, 'again'], {
      type: 'subscribed',
      data: { channel: 's-1' },
      id: 'again',
    });
    // Leaving one frees a slot.
    await expectReply(
      client,
      ['unsubscribe', { channel: 's-1' }],
      reply('unsubscribed', { channel: 's-1' }),
    );
    await subscribe(client, 's-101');
    await expectReply(
      client,
      ['subscribe', { channel: 's-102' }, 102],
      errorFrame('Too many subscriptions', 102),
    );
    expect(client.isOpen).toBe(true);
  });
});
