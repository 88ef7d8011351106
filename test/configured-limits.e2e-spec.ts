import { useApp } from './support/app';

const typeOf = (expected: string) => (frame: { type?: unknown }) => {
  expect(frame.type).toBe(expected);
};

/** The limits that were fixed constants before they became variables take effect from the env. */
describe('configured limits on /ws/json', () => {
  const fixture = useApp({
    RATE_LIMIT_MAX: '100',
    MAX_SUBSCRIPTIONS: '2',
    MAX_PAYLOAD_DEPTH: '4',
    MAX_PAYLOAD_ENTRIES: '10',
  });

  const publish = (message: string, id: number) =>
    `{"type":"publish","payload":{"channel":"a","message":${message}},"id":${id}}`;
  const refused = (message: string, id: number) => ({
    type: 'error',
    data: { message: 'Validation failed', errors: [{ field: 'payload', message }] },
    id,
  });

  it('refuses a payload deeper than MAX_PAYLOAD_DEPTH and accepts one at it', async () => {
    await fixture
      .request()
      .ws('/ws/json')
      .sendText(publish('[[[[]]]]', 1))
      .expectJson(refused('payload must not be nested more than 4 levels deep', 1))
      .sendText(publish('[[[]]]', 2))
      .expectJson(typeOf('published'))
      .close()
      .expectClosed();
  });

  it('refuses a payload with more than MAX_PAYLOAD_ENTRIES keys and elements and accepts one at it', async () => {
    // channel and message are 2 entries; the array's elements are the others.
    await fixture
      .request()
      .ws('/ws/json')
      .sendText(publish('[1,2,3,4,5,6,7,8,9]', 1))
      .expectJson(refused('payload must not have more than 10 keys and array elements in total', 1))
      .sendText(publish('[1,2,3,4,5,6,7,8]', 2))
      .expectJson(typeOf('published'))
      .close()
      .expectClosed();
  });

  it('refuses a subscription past MAX_SUBSCRIPTIONS with "Too many subscriptions"', async () => {
    const subscribe = (channel: string, id: number) =>
      `{"type":"subscribe","payload":{"channel":"${channel}"},"id":${id}}`;
    await fixture
      .request()
      .ws('/ws/json')
      .sendText(subscribe('a', 1))
      .expectJson(typeOf('subscribed'))
      .sendText(subscribe('b', 2))
      .expectJson(typeOf('subscribed'))
      .sendText(subscribe('c', 3))
      .expectJson({ type: 'error', data: { message: 'Too many subscriptions' }, id: 3 })
      .close()
      .expectClosed();
  });
});
