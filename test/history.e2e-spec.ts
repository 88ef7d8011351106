import { useApp } from './support/app';
import {
  expectNothingElse,
  nextJson,
  nextJsons,
  reply,
  sendRequest,
  validationFailed,
  type JsonFrame,
} from './support/json-client';
import type { TestClient } from './support/ws-client';

/** Any epoch: a non-empty string. */
const anEpoch: unknown = expect.stringMatching(/./);

/** Reads the reply data of a `subscribed` or `published`, failing on anything else. */
async function dataOf(client: TestClient, type: string): Promise<Record<string, unknown>> {
  const frame = (await nextJson(client)) as JsonFrame;
  expect(frame.type).toBe(type);
  return frame.data as Record<string, unknown>;
}

describe('channel history, positions and recovery (in-memory engine)', () => {
  const fixture = useApp({ RATE_LIMIT_MAX: '100000', HISTORY_SIZE: '5' });
  const { clients } = fixture;
  const openJson = () => clients.open('/ws/json');
  let channelCount = 0;
  /** A channel no other test has used: positions start at 0. */
  const freshChannel = () => `history-${++channelCount}`;

  async function publish(client: TestClient, channel: string, message: unknown, id = 'p') {
    sendRequest(client, 'publish', { channel, message }, id);
    return dataOf(client, 'published');
  }

  it('answers subscribe with the position and publish with the offset it took', async () => {
    const channel = freshChannel();
    const client = await openJson();
    sendRequest(client, 'subscribe', { channel }, 1);
    const subscribed = (await nextJson(client)) as JsonFrame;
    expect(subscribed).toEqual(reply('subscribed', { channel, epoch: anEpoch, offset: 0 }, 1));
    const { epoch } = subscribed.data as { epoch: string };
    expect(epoch).not.toBe('');

    sendRequest(client, 'publish', { channel, message: { n: 1 } }, 2);
    expect(await nextJsons(client, 2)).toEqual([
      reply('message', { channel, message: { n: 1 }, offset: 1 }),
      reply('published', { channel, epoch, offset: 1 }, 2),
    ]);
    sendRequest(client, 'publish', { channel, message: 'two' }, 3);
    expect(await nextJsons(client, 2)).toEqual([
      reply('message', { channel, message: 'two', offset: 2 }),
      reply('published', { channel, epoch, offset: 2 }, 3),
    ]);
  });

  it('gives a text publish on /ws/subscribe the next offset too', async () => {
    const channel = freshChannel();
    const json = await openJson();
    sendRequest(json, 'subscribe', { channel });
    await dataOf(json, 'subscribed');
    const text = await clients.open(`/ws/subscribe/${channel}`);
    text.send('from text');
    expect(await text.nextText()).toBe('from text');
    expect(await nextJson(json)).toEqual(
      reply('message', { channel, message: 'from text', offset: 1 }),
    );
    sendRequest(json, 'publish', { channel, message: 'from json' }, 'j');
    expect(await nextJsons(json, 2)).toEqual([
      reply('message', { channel, message: 'from json', offset: 2 }),
      reply('published', { channel, epoch: anEpoch, offset: 2 }, 'j'),
    ]);
  });

  it('recovers every publication after `since`, then delivers live from the next offset', async () => {
    const channel = freshChannel();
    const publisher = await openJson();
    for (const n of [1, 2, 3]) await publish(publisher, channel, n);
    const { epoch } = await publish(publisher, channel, 4);

    const client = await openJson();
    sendRequest(client, 'subscribe', { channel, since: { offset: 2, epoch } }, 's');
    expect(await nextJson(client)).toEqual(
      reply(
        'subscribed',
        {
          channel,
          epoch,
          offset: 4,
          recovered: true,
          publications: [
            { offset: 3, message: 3 },
            { offset: 4, message: 4 },
          ],
        },
        's',
      ),
    );
    await publish(publisher, channel, 5);
    expect(await nextJson(client)).toEqual(reply('message', { channel, message: 5, offset: 5 }));
    await expectNothingElse(client);
  });

  it('accepts `since` without an epoch, and at the current offset recovers nothing, truly', async () => {
    const channel = freshChannel();
    const client = await openJson();
    const { offset } = await publish(client, channel, 'x');
    sendRequest(client, 'subscribe', { channel, since: { offset } });
    expect(await dataOf(client, 'subscribed')).toMatchObject({
      offset: 1,
      recovered: true,
      publications: [],
    });
  });

  it('says recovered:false with what still exists when the gap left history', async () => {
    const channel = freshChannel();
    const publisher = await openJson();
    for (let n = 1; n <= 8; n++) await publish(publisher, channel, n);
    const client = await openJson();
    sendRequest(client, 'subscribe', { channel, since: { offset: 1 } });
    const data = await dataOf(client, 'subscribed');
    expect(data).toMatchObject({ offset: 8, recovered: false });
    expect(data.publications).toEqual([4, 5, 6, 7, 8].map((n) => ({ offset: n, message: n })));
  });

  it('says recovered:false for another epoch (all retained) and for an offset in the future ([])', async () => {
    const channel = freshChannel();
    const publisher = await openJson();
    await publish(publisher, channel, 'a');
    await publish(publisher, channel, 'b');
    const client = await openJson();
    sendRequest(client, 'subscribe', { channel, since: { offset: 1, epoch: 'not-this-one' } });
    expect(await dataOf(client, 'subscribed')).toMatchObject({
      offset: 2,
      recovered: false,
      publications: [
        { offset: 1, message: 'a' },
        { offset: 2, message: 'b' },
      ],
    });
    const other = await openJson();
    sendRequest(other, 'subscribe', { channel, since: { offset: 7 } });
    expect(await dataOf(other, 'subscribed')).toMatchObject({
      offset: 2,
      recovered: false,
      publications: [],
    });
  });

  it.each<[string, unknown]>([
    ['a string', 'x'],
    ['an array', [1]],
    ['no offset', {}],
    ['a negative offset', { offset: -1 }],
    ['a fractional offset', { offset: 1.5 }],
    ['a string offset', { offset: '1' }],
    ['an empty epoch', { offset: 1, epoch: '' }],
    ['a numeric epoch', { offset: 1, epoch: 3 }],
    ['an unknown key', { offset: 1, from: 2 }],
  ])('answers `since` with %s with "Validation failed"', async (_name, since) => {
    const client = await openJson();
    sendRequest(client, 'subscribe', { channel: freshChannel(), since }, 'v');
    expect(await nextJson(client)).toEqual(validationFailed('v', 'since'));
  });

  it('loses nothing and repeats nothing between the recovered publications and live ones', async () => {
    const channel = freshChannel();
    const publisher = await openJson();
    const subscriber = await openJson();
    const { offset: start } = await publish(publisher, channel, 0);
    // A stream of publishes in flight while the subscriber resumes.
    const total = 40;
    for (let n = 1; n <= total; n++) sendRequest(publisher, 'publish', { channel, message: n });
    sendRequest(subscriber, 'subscribe', { channel, since: { offset: start } });
    const subscribed = await dataOf(subscriber, 'subscribed');
    const seen = (subscribed.publications as { offset: number }[]).map((p) => p.offset);
    const last = 1 + total;
    while ((seen.at(-1) ?? subscribed.offset) !== last) {
      const frame = (await nextJson(subscriber)) as { data: { offset: number } };
      seen.push(frame.data.offset);
    }
    const expected = Array.from({ length: seen.length }, (_, i) => (start as number) + 1 + i);
    // Recovered when the subscribe came before HISTORY_SIZE publishes had passed it.
    expect(seen).toEqual(subscribed.recovered ? expected : seen);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});

describe('channels with HISTORY_SIZE=0', () => {
  const fixture = useApp({ HISTORY_SIZE: '0' });
  const { clients } = fixture;

  it('keeps today’s shapes and ignores `since`, even one that history would refuse', async () => {
    const client = await clients.open('/ws/json');
    sendRequest(client, 'subscribe', { channel: 'plain', since: { offset: 3 } }, 1);
    expect(await nextJson(client)).toEqual(reply('subscribed', { channel: 'plain' }, 1));
    sendRequest(client, 'subscribe', { channel: 'other', since: 'anything' }, 0);
    expect(await nextJson(client)).toEqual(reply('subscribed', { channel: 'other' }, 0));
    sendRequest(client, 'publish', { channel: 'plain', message: 'x' }, 2);
    expect(await nextJsons(client, 2)).toEqual([
      reply('message', { channel: 'plain', message: 'x' }),
      reply('published', { channel: 'plain' }, 2),
    ]);
  });
});
