import { useApp } from './support/app';
import { FakeTime } from './support/fake-time';
import {
  channelMessage,
  envelope,
  errorFrame,
  expectNothingElse,
  nextJson,
  nextJsons,
  reply,
  sendRequest,
} from './support/json-client';
import { waitForValue } from './support/wait';
import type { TestClient, TestClients } from './support/ws-client';

const MAX = 5;
const TEXT_LIMITED = { error: 'Rate limit exceeded' };

/**
 * One rate-limited sender on one endpoint, with whoever can see which of its messages were
 * handled. Each endpoint answers differently, so each has its own flow; the tests are the same.
 */
interface Flow {
  send(text: string): void;
  /** Asserts that `text`, sent earlier, was handled: its reply or delivery arrives. */
  expectHandled(text: string): Promise<void>;
  /** Asserts that `text`, sent earlier, was refused: the sender gets the endpoint's error. */
  expectLimited(text: string): Promise<void>;
  /** Asserts that nothing else is on its way: no extra delivery, no extra error. */
  expectNothingElse(): Promise<void>;
  /**
   * Sends `text` with no other message in flight and says whether it was handled (true) or
   * refused (false).
   */
  probe(text: string): Promise<boolean>;
}

type OpenFlow = (clients: TestClients, tag: string) => Promise<Flow>;

async function expectTextLimited(client: TestClient): Promise<void> {
  expect(JSON.parse(await client.nextText()) as unknown).toEqual(TEXT_LIMITED);
}

/** Reads the sender's answer to a probe: `answer` when handled, the rate-limit error if not. */
async function probeAnswer(client: TestClient, answer: string): Promise<boolean> {
  const text = await client.nextText();
  if (text === answer) return true;
  expect(JSON.parse(text) as unknown).toEqual(TEXT_LIMITED);
  return false;
}

/** `/ws`: the sender gets "Echo: m" for a handled message. */
const echo: OpenFlow = async (clients) => {
  const sender = await clients.open('/ws');
  return {
    send: (text) => sender.send(text),
    expectHandled: async (text) => expect(await sender.nextText()).toBe(`Echo: ${text}`),
    expectLimited: () => expectTextLimited(sender),
    expectNothingElse: async () => {
      // Still over the limit, so the marker's error must be the next frame.
      sender.send('marker');
      await expectTextLimited(sender);
    },
    probe: async (text) => {
      sender.send(text);
      return probeAnswer(sender, `Echo: ${text}`);
    },
  };
};

/** `/ws/{client_id}`: a handled message reaches every chat client, the sender included. */
const chat: OpenFlow = async (clients, tag) => {
  const [sender, other] = await clients.openAll(`/ws/${tag}-sender`, `/ws/${tag}-other`);
  const line = (text: string) => `Client ${tag}-sender: ${text}`;
  return {
    send: (text) => sender.send(text),
    expectHandled: async (text) => {
      expect(await sender.nextText()).toBe(line(text));
      expect(await other.nextText()).toBe(line(text));
    },
    expectLimited: () => expectTextLimited(sender),
    expectNothingElse: async () => {
      other.send('marker');
      expect(await sender.nextText()).toBe(`Client ${tag}-other: marker`);
      expect(await other.nextText()).toBe(`Client ${tag}-other: marker`);
    },
    probe: async (text) => {
      sender.send(text);
      const handled = await probeAnswer(sender, line(text));
      if (handled) expect(await other.nextText()).toBe(line(text));
      return handled;
    },
  };
};

/** `/ws/room/{room_id}`: a handled message reaches the other members only. */
const room: OpenFlow = async (clients, tag) => {
  const path = `/ws/room/${tag}`;
  const [sender, member, third] = await clients.openAll(path, path, path);
  return {
    send: (text) => sender.send(text),
    expectHandled: async (text) => {
      expect(await member.nextText()).toBe(text);
      expect(await third.nextText()).toBe(text);
    },
    expectLimited: () => expectTextLimited(sender),
    expectNothingElse: async () => {
      third.send('marker');
      expect(await sender.nextText()).toBe('marker');
      expect(await member.nextText()).toBe('marker');
    },
    probe: async (text) => {
      sender.send(text);
      // Exactly one frame answers the probe: a delivery to the others or an error to the sender.
      await waitForValue(
        () => sender.unread.length + member.unread.length,
        1,
        `the outcome of "${text}"`,
      );
      if (member.unread.length === 0) {
        await expectTextLimited(sender);
        return false;
      }
      expect(await member.nextText()).toBe(text);
      expect(await third.nextText()).toBe(text);
      return true;
    },
  };
};

/** `/ws/subscribe/{channel}`: a handled message reaches every subscriber, the sender included. */
const subscribe: OpenFlow = async (clients, tag) => {
  const path = `/ws/subscribe/${tag}`;
  const [sender, other] = await clients.openAll(path, path);
  return {
    send: (text) => sender.send(text),
    expectHandled: async (text) => {
      expect(await sender.nextText()).toBe(text);
      expect(await other.nextText()).toBe(text);
    },
    expectLimited: () => expectTextLimited(sender),
    expectNothingElse: async () => {
      other.send('marker');
      expect(await sender.nextText()).toBe('marker');
      expect(await other.nextText()).toBe('marker');
    },
    probe: async (text) => {
      sender.send(text);
      const handled = await probeAnswer(sender, text);
      if (handled) expect(await other.nextText()).toBe(text);
      return handled;
    },
  };
};

/**
 * `/ws/json`: each message publishes to a channel with its text as the id; a handled one is
 * confirmed to the sender and delivered to a subscriber on another connection.
 */
const json: OpenFlow = async (clients, tag) => {
  const [sender, subscriber] = await clients.openAll('/ws/json', '/ws/json');
  sendRequest(subscriber, 'subscribe', { channel: tag });
  expect(await nextJson(subscriber)).toEqual(reply('subscribed', { channel: tag }));
  const limited = (id: string) => errorFrame('Rate limit exceeded', id);
  return {
    send: (text) => sendRequest(sender, 'publish', { channel: tag, message: text }, text),
    expectHandled: async (text) => {
      expect(await nextJson(sender)).toEqual(reply('published', { channel: tag }, text));
      expect(await nextJson(subscriber)).toEqual(channelMessage(tag, text));
    },
    expectLimited: async (text) => expect(await nextJson(sender)).toEqual(limited(text)),
    expectNothingElse: async () => {
      await expectNothingElse(subscriber);
      sendRequest(sender, 'ping', undefined, 'marker');
      expect(await nextJson(sender)).toEqual(limited('marker'));
    },
    probe: async (text) => {
      sendRequest(sender, 'publish', { channel: tag, message: text }, text);
      const answer = await nextJson(sender);
      if ((answer as { type?: unknown }).type === 'error') {
        expect(answer).toEqual(limited(text));
        return false;
      }
      expect(answer).toEqual(reply('published', { channel: tag }, text));
      expect(await nextJson(subscriber)).toEqual(channelMessage(tag, text));
      return true;
    },
  };
};

const FLOWS: [string, OpenFlow][] = [
  ['/ws (echo)', echo],
  ['/ws/{client_id} (chat)', chat],
  ['/ws/room/{room_id}', room],
  ['/ws/subscribe/{channel}', subscribe],
  ['/ws/json', json],
];

const messages = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

let flows = 0;
/** A tag no other flow uses, so chat ids, rooms and channels never meet across tests. */
const nextTag = () => `rl${++flows}`;

describe(`rate limit (RATE_LIMIT_MAX=${MAX}, RATE_LIMIT_WINDOW_MS=60000)`, () => {
  // The expected replies are the shapes without history (positions are not what is tested).
  const { clients } = useApp({
    RATE_LIMIT_MAX: String(MAX),
    RATE_LIMIT_WINDOW_MS: '60000',
    HISTORY_SIZE: '0',
  });

  it.each(FLOWS)(
    `%s handles exactly the first ${MAX} of a burst of ${MAX + 3} and refuses each other one`,
    async (_name, open) => {
      const flow = await open(clients, nextTag());
      const burst = messages('m', MAX + 3);
      for (const text of burst) flow.send(text);

      for (const text of burst.slice(0, MAX)) await flow.expectHandled(text);
      for (const text of burst.slice(MAX)) await flow.expectLimited(text);
      await flow.expectNothingElse();
    },
  );

  it.each(FLOWS)('%s limits each connection on its own', async (_name, open) => {
    const exhausted = await open(clients, nextTag());
    for (const text of messages('a', MAX + 1)) exhausted.send(text);
    for (const text of messages('a', MAX)) await exhausted.expectHandled(text);
    await exhausted.expectLimited(`a${MAX + 1}`);

    const fresh = await open(clients, nextTag());
    for (const text of messages('b', MAX)) expect(await fresh.probe(text)).toBe(true);
    expect(await fresh.probe('over')).toBe(false);
  });

  it('counts protocol pings: within the limit each gets its pong, past it the rate-limit error', async () => {
    const client = await clients.open('/ws');
    const pongs: string[] = [];
    client.socket.on('pong', (data: Buffer) => pongs.push(data.toString()));
    for (const text of messages('p', MAX + 2)) client.socket.ping(text);
    client.send('after the pings');

    await expectTextLimited(client);
    await expectTextLimited(client);
    await expectTextLimited(client); // the text frame, refused like the pings before it
    expect(pongs).toEqual(messages('p', MAX));
    expect(client.isOpen).toBe(true);
  });

  it('/ws/json refuses with the request id when there is one, and without one otherwise', async () => {
    const client = await clients.open('/ws/json');
    for (let id = 1; id <= MAX; id++) sendRequest(client, 'ping', undefined, id);
    sendRequest(client, 'ping', undefined, 6);
    sendRequest(client, 'ping', undefined, 'seven');
    sendRequest(client, 'ping');
    // Over the limit, a frame is refused before it is decoded at all.
    client.send('{not json');
    client.send(envelope('nope', undefined, 10));
    client.send(JSON.stringify({ id: 11 }));

    expect(await nextJsons(client, MAX + 6)).toEqual([
      ...Array.from({ length: MAX }, (_, i) => reply('pong', {}, i + 1)),
      { type: 'error', data: { message: 'Rate limit exceeded' }, id: 6 },
      { type: 'error', data: { message: 'Rate limit exceeded' }, id: 'seven' },
      { type: 'error', data: { message: 'Rate limit exceeded' } },
      { type: 'error', data: { message: 'Rate limit exceeded' } },
      { type: 'error', data: { message: 'Rate limit exceeded' }, id: 10 },
      { type: 'error', data: { message: 'Rate limit exceeded' }, id: 11 },
    ]);
    expect(client.isOpen).toBe(true);
  });
});

const WINDOW_MS = 60000;

// The app's clock is a fake time: the window ends when a test advances it, to the millisecond.
// (Heartbeat sweeps run on it too, one per hour: none runs here.)
describe(`rate limit window (RATE_LIMIT_MAX=${MAX}, RATE_LIMIT_WINDOW_MS=${WINDOW_MS}, fake time)`, () => {
  const time = new FakeTime();
  const { clients } = useApp(
    {
      RATE_LIMIT_MAX: String(MAX),
      RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
      HEARTBEAT_INTERVAL_MS: '3600000',
      HISTORY_SIZE: '0',
    },
    { time },
  );

  it.each(FLOWS)('%s flows again once the window has passed, not before', async (_name, open) => {
    const flow = await open(clients, nextTag());
    const burst = messages('m', MAX + 1);
    for (const text of burst) flow.send(text);
    for (const text of burst.slice(0, MAX)) await flow.expectHandled(text);
    await flow.expectLimited(`m${MAX + 1}`);

    time.advance(WINDOW_MS - 1);
    expect(await flow.probe('a millisecond early')).toBe(false);

    // The first message once the window has passed opens a new one, which again holds exactly
    // MAX messages.
    time.advance(1);
    for (const text of messages('n', MAX)) expect(await flow.probe(text)).toBe(true);
    expect(await flow.probe('over')).toBe(false);
  });
});
