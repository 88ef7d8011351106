import { startApp, type RunningApp } from './support/app';
import { TestClient } from './support/ws-client';

describe('/ws/json payload bounds', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ RATE_LIMIT_MAX: '100' });
  });

  afterAll(async () => {
    await running.close();
  });

  it('answers a payload nested past 32 levels with "Validation failed", not an internal error', async () => {
    const client = await TestClient.open(`${running.wsUrl}/ws/json`);
    const deep = '['.repeat(2000) + ']'.repeat(2000);
    client.send(`{"type":"publish","payload":{"channel":"a","message":${deep}},"id":1}`);
    expect(JSON.parse(await client.nextText())).toEqual({
      type: 'error',
      data: {
        message: 'Validation failed',
        errors: [
          { field: 'payload', message: 'payload must not be nested more than 32 levels deep' },
        ],
      },
      id: 1,
    });

    // 31 levels of message inside the payload object (level 1) is the most that is accepted.
    const deepest = '['.repeat(31) + ']'.repeat(31);
    client.send(`{"type":"subscribe","payload":{"channel":"a"},"id":2}`);
    client.send(`{"type":"publish","payload":{"channel":"a","message":${deepest}},"id":3}`);
    const replies = (await client.nextTexts(3)).map((text) => JSON.parse(text) as { type: string });
    expect(replies.map((reply) => reply.type)).toEqual(['subscribed', 'message', 'published']);
    await client.close();
  });

  it('ignores undeclared fields and refuses more than 10,000 keys and array elements in total', async () => {
    const client = await TestClient.open(`${running.wsUrl}/ws/json`);
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `,"f${i}":0`).join('');
    client.send(`{"type":"subscribe","payload":{"channel":"b"${fields(6000)}},"id":1}`);
    expect(JSON.parse(await client.nextText())).toMatchObject({
      type: 'subscribed',
      data: { channel: 'b' },
      id: 1,
    });

    const elements = (n: number) => `[${Array(n).fill(0).join(',')}]`;
    // channel + message (2) + 9,998 elements: the most that is accepted.
    client.send(`{"type":"publish","payload":{"channel":"b","message":${elements(9998)}},"id":2}`);
    const [delivery, published] = (await client.nextTexts(2)).map(
      (text) => JSON.parse(text) as { type: string },
    );
    expect([delivery.type, published.type]).toEqual(['message', 'published']);

    client.send(`{"type":"publish","payload":{"channel":"b","message":${elements(9999)}},"id":3}`);
    expect(JSON.parse(await client.nextText())).toEqual({
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
    });
    await client.close();
  });
});
