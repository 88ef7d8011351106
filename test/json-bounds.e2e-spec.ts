import { useApp } from './support/app';

const typeOf = (expected: string) => (frame: { type?: unknown }) => {
  expect(frame.type).toBe(expected);
};

describe('/ws/json payload bounds', () => {
  const fixture = useApp({ RATE_LIMIT_MAX: '100' });

  it('answers a payload nested past 32 levels with "Validation failed", not an internal error', async () => {
    const deep = '['.repeat(2000) + ']'.repeat(2000);
    // 31 levels of message inside the payload object (level 1) is the most that is accepted.
    const deepest = '['.repeat(31) + ']'.repeat(31);
    await fixture
      .request()
      .ws('/ws/json')
      .sendText(`{"type":"publish","payload":{"channel":"a","message":${deep}},"id":1}`)
      .expectJson({
        type: 'error',
        data: {
          message: 'Validation failed',
          errors: [
            { field: 'payload', message: 'payload must not be nested more than 32 levels deep' },
          ],
        },
        id: 1,
      })
      .sendText(`{"type":"subscribe","payload":{"channel":"a"},"id":2}`)
      .sendText(`{"type":"publish","payload":{"channel":"a","message":${deepest}},"id":3}`)
      .expectJson(typeOf('subscribed'))
      .expectJson(typeOf('message'))
      .expectJson(typeOf('published'))
      .close()
      .expectClosed();
  });

  it('ignores undeclared fields and refuses more than 10,000 keys and array elements in total', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `,"f${i}":0`).join('');
    const elements = (n: number) => `[${Array(n).fill(0).join(',')}]`;
    await fixture
      .request()
      .ws('/ws/json')
      .sendText(`{"type":"subscribe","payload":{"channel":"b"${fields(6000)}},"id":1}`)
      // With history on (the default) the reply also carries the channel's position.
      .expectJson((frame) =>
        expect(frame).toMatchObject({ type: 'subscribed', data: { channel: 'b' }, id: 1 }),
      )
      // channel + message (2) + 9,998 elements: the most that is accepted.
      .sendText(`{"type":"publish","payload":{"channel":"b","message":${elements(9998)}},"id":2}`)
      .expectJson(typeOf('message'))
      .expectJson(typeOf('published'))
      .sendText(`{"type":"publish","payload":{"channel":"b","message":${elements(9999)}},"id":3}`)
      .expectJson({
        type: 'error',
        data: {
          message: 'Validation failed',
          errors: [
            {
              field: 'payload',
              message: 'payload must not have more than 10000 keys and array elements in total',
            },
          ],
        },
        id: 3,
      })
      .close()
      .expectClosed();
  });
});
