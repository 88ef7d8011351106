import request from 'supertest';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { useApp } from './support/app';
import { nextJson, reply, sendRequest } from './support/json-client';
import type { TestClient } from './support/ws-client';

const SECRET = 'e2e-api-jwt-secret';
const ADMIN = 'admin-secret-0123456789';
const PUBLISHER = 'publish-secret-0123456789';
const READER = 'read-secret-0123456789';
const API_KEYS = `ops:${ADMIN},orders:${PUBLISHER}:publish,viewer:${READER}:read`;
const signer = new TokenSigner({ secret: SECRET }, new SystemClock());

const anEpoch: unknown = expect.stringMatching(/./);
const aString: unknown = expect.any(String);
/** A 400 body listing (at least) an error on `field`. */
const validationFailedOn = (field: string): unknown => ({
  error: 'Validation failed',
  errors: expect.arrayContaining([{ field, message: aString }]) as unknown,
});
const bodyOf = (response: { body: unknown }) =>
  response.body as { error?: string; errors?: unknown; publications?: unknown };

describe('HTTP API (/api) without API_KEYS', () => {
  const fixture = useApp();

  it.each([
    ['post', '/api/publish'],
    ['post', '/api/broadcast'],
    ['get', '/api/channels/news/history'],
    ['post', '/api/disconnect'],
  ] as const)('answers %s %s with 404', async (method, path) => {
    const response = await request(fixture.running.server)[method](path).set('X-API-Key', ADMIN);
    expect(response.status).toBe(404);
  });
});

describe('HTTP API (/api) with API_KEYS', () => {
  const fixture = useApp({
    API_KEYS,
    JWT_SECRET: SECRET,
    RATE_LIMIT_MAX: '100000',
    HISTORY_SIZE: '10',
    MAX_MESSAGE_BYTES: '1024',
  });
  const api = () => request(fixture.running.server);
  let channelCount = 0;
  const freshChannel = () => `api-${++channelCount}`;

  async function subscribedJson(channel: string, token?: string): Promise<TestClient> {
    const client = await fixture.clients.open(`/ws/json${token ? `?token=${token}` : ''}`);
    sendRequest(client, 'subscribe', { channel }, 's');
    expect(((await nextJson(client)) as { type: string }).type).toBe('subscribed');
    return client;
  }

  describe('keys and scopes', () => {
    it('refuses a missing or wrong key with 401 {"error":"Unauthorized"}', async () => {
      const body = { channel: 'news', message: 1 };
      for (const response of [
        await api().post('/api/publish').send(body),
        await api().post('/api/publish').set('X-API-Key', 'wrong-secret-0123456789').send(body),
        await api().post('/api/publish').set('Authorization', `Bearer ${ADMIN}x`).send(body),
        await api().post('/api/publish').set('Authorization', ADMIN).send(body),
      ]) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ error: 'Unauthorized' });
      }
    });

    it('accepts the key as a Bearer token or as X-API-Key', async () => {
      const body = { channel: freshChannel(), message: 1 };
      const bearer = await api()
        .post('/api/publish')
        .set('Authorization', `Bearer ${ADMIN}`)
        .send(body);
      expect(bearer.status).toBe(200);
      const header = await api().post('/api/publish').set('X-API-Key', PUBLISHER).send(body);
      expect(header.status).toBe(200);
    });

    it('refuses a key without the scope with 403 {"error":"Forbidden"}', async () => {
      const cases = [
        api().post('/api/publish').set('X-API-Key', READER).send({ channel: 'a', message: 1 }),
        api()
          .post('/api/broadcast')
          .set('X-API-Key', READER)
          .send({ channels: ['a'], message: 1 }),
        api().get('/api/channels/a/history').set('X-API-Key', PUBLISHER),
        api().post('/api/disconnect').set('X-API-Key', PUBLISHER).send({ user: 'alice' }),
        api().post('/api/disconnect').set('X-API-Key', READER).send({ user: 'alice' }),
      ];
      for (const response of await Promise.all(cases)) {
        expect(response.status).toBe(403);
        expect(response.body).toEqual({ error: 'Forbidden' });
      }
      const read = await api().get('/api/channels/a/history').set('X-API-Key', READER);
      expect(read.status).toBe(200);
    });
  });

  describe('POST /api/publish', () => {
    it('delivers to /ws/json and /ws/subscribe subscribers as a client publish would', async () => {
      const channel = freshChannel();
      const json = await subscribedJson(channel);
      const text = await fixture.clients.open(`/ws/subscribe/${channel}`);
      const response = await api()
        .post('/api/publish')
        .set('X-API-Key', PUBLISHER)
        .send({ channel, message: { order: 7 } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ channel, epoch: anEpoch, offset: 1 });
      expect(await nextJson(json)).toEqual(
        reply('message', { channel, message: { order: 7 }, offset: 1 }),
      );
      expect(JSON.parse(await text.nextText())).toEqual({ order: 7 });
    });

    it('publishes once per Idempotency-Key and replays the first result', async () => {
      const channel = freshChannel();
      const json = await subscribedJson(channel);
      const send = (message: unknown) =>
        api()
          .post('/api/publish')
          .set('X-API-Key', PUBLISHER)
          .set('Idempotency-Key', `order-${channel}`)
          .send({ channel, message });
      const first = await send('once');
      const retries = await Promise.all([send('once'), send('once')]);
      for (const retry of retries) {
        expect(retry.status).toBe(200);
        expect(retry.body).toEqual(first.body);
      }
      expect(await nextJson(json)).toEqual(
        reply('message', { channel, message: 'once', offset: 1 }),
      );
      // A different key publishes again.
      const other = await api()
        .post('/api/publish')
        .set('X-API-Key', PUBLISHER)
        .send({ channel, message: 'two' });
      expect(other.body).toEqual({ channel, epoch: anEpoch, offset: 2 });
      expect(await nextJson(json)).toEqual(
        reply('message', { channel, message: 'two', offset: 2 }),
      );
    });

    it('makes concurrent duplicates wait for the first result: one publication', async () => {
      const channel = freshChannel();
      const send = () =>
        api()
          .post('/api/publish')
          .set('X-API-Key', ADMIN)
          .set('Idempotency-Key', 'concurrent')
          .send({ channel, message: 'x' });
      const responses = await Promise.all([send(), send(), send(), send()]);
      for (const response of responses) expect(response.body).toEqual(responses[0].body);
      const history = await api().get(`/api/channels/${channel}/history`).set('X-API-Key', READER);
      expect(bodyOf(history).publications).toEqual([{ offset: 1, message: 'x' }]);
    });

    it.each([
      [{ message: 1 }, 'channel'],
      [{ channel: 'bad channel', message: 1 }, 'channel'],
      [{ channel: 'ok' }, 'message'],
      [{ channel: 'ok', message: 1, extra: true }, 'extra'],
      [[1, 2], 'body'],
    ])('answers %j with 400 Validation failed on %s', async (body, field) => {
      const response = await api().post('/api/publish').set('X-API-Key', ADMIN).send(body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(validationFailedOn(field));
    });

    it('answers malformed JSON with 400 and a body over MAX_MESSAGE_BYTES with 413', async () => {
      const bad = await api()
        .post('/api/publish')
        .set('X-API-Key', ADMIN)
        .set('Content-Type', 'application/json')
        .send('{"channel":');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        error: 'Validation failed',
        errors: [{ field: 'body', message: 'body must be valid JSON' }],
      });
      const big = await api()
        .post('/api/publish')
        .set('X-API-Key', ADMIN)
        .send({ channel: 'big', message: 'x'.repeat(2000) });
      expect(big.status).toBe(413);
      expect(big.body).toEqual({ error: 'Payload too large' });
    });

    it('refuses a malformed Idempotency-Key with 400', async () => {
      const response = await api()
        .post('/api/publish')
        .set('X-API-Key', ADMIN)
        .set('Idempotency-Key', 'x'.repeat(256))
        .send({ channel: 'a', message: 1 });
      expect(response.status).toBe(400);
      expect(bodyOf(response).errors).toEqual([{ field: 'Idempotency-Key', message: aString }]);
    });
  });

  describe('POST /api/broadcast', () => {
    it('publishes to every channel and answers one result per channel', async () => {
      const [a, b] = [freshChannel(), freshChannel()];
      const clientA = await subscribedJson(a);
      const clientB = await subscribedJson(b);
      const response = await api()
        .post('/api/broadcast')
        .set('X-API-Key', PUBLISHER)
        .send({ channels: [a, b], message: 'hi' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        results: [
          { channel: a, epoch: anEpoch, offset: 1 },
          { channel: b, epoch: anEpoch, offset: 1 },
        ],
      });
      expect(await nextJson(clientA)).toEqual(
        reply('message', { channel: a, message: 'hi', offset: 1 }),
      );
      expect(await nextJson(clientB)).toEqual(
        reply('message', { channel: b, message: 'hi', offset: 1 }),
      );
    });

    it('refuses more than 100 channels, none, or a bad name with 400', async () => {
      const many = Array.from({ length: 101 }, (_, i) => `c${i}`);
      for (const channels of [many, [], ['ok', 'not ok']]) {
        const response = await api()
          .post('/api/broadcast')
          .set('X-API-Key', ADMIN)
          .send({ channels, message: 1 });
        expect(response.status).toBe(400);
        expect(bodyOf(response).error).toBe('Validation failed');
      }
    });
  });

  describe('GET /api/channels/{channel}/history', () => {
    it('answers the position and the publications after since, at most limit', async () => {
      const channel = freshChannel();
      for (let n = 1; n <= 4; n++) {
        await api().post('/api/publish').set('X-API-Key', ADMIN).send({ channel, message: n });
      }
      const all = await api().get(`/api/channels/${channel}/history`).set('X-API-Key', READER);
      expect(all.status).toBe(200);
      expect(all.body).toEqual({
        channel,
        epoch: anEpoch,
        offset: 4,
        publications: [1, 2, 3, 4].map((n) => ({ offset: n, message: n })),
      });
      const page = await api()
        .get(`/api/channels/${channel}/history?since=1&limit=2`)
        .set('X-API-Key', READER);
      expect(bodyOf(page).publications).toEqual([
        { offset: 2, message: 2 },
        { offset: 3, message: 3 },
      ]);
    });

    it.each([
      ['/api/channels/bad%20name/history', 'channel'],
      ['/api/channels/ok/history?since=-1', 'since'],
      ['/api/channels/ok/history?limit=abc', 'limit'],
      ['/api/channels/ok/history?other=1', 'other'],
    ])('answers %s with 400 on %s', async (path, field) => {
      const response = await api().get(path).set('X-API-Key', READER);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(validationFailedOn(field));
    });
  });

  describe('POST /api/disconnect', () => {
    it('closes every socket of the user with 1008 and counts them; others stay', async () => {
      const alice = signer.sign({ sub: 'alice' }, 60);
      const bob = signer.sign({ sub: 'bob' }, 60);
      const aliceSockets = [
        await fixture.clients.open(`/ws/json?token=${alice}`),
        await fixture.clients.open(`/ws/secure?token=${alice}`),
      ];
      const bobSocket = await fixture.clients.open(`/ws/json?token=${bob}`);
      const response = await api()
        .post('/api/disconnect')
        .set('X-API-Key', ADMIN)
        .send({ user: 'alice' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ disconnected: 2 });
      for (const socket of aliceSockets) {
        expect(await socket.closed()).toEqual({ code: 1008, reason: 'Disconnected by server' });
      }
      expect(bobSocket.closeStatus).toBeUndefined();
      const none = await api()
        .post('/api/disconnect')
        .set('X-API-Key', ADMIN)
        .send({ user: 'carol' });
      expect(none.body).toEqual({ disconnected: 0 });
    });
  });
});

describe('HTTP API throttling (API_RATE_LIMIT=3)', () => {
  const fixture = useApp({ API_KEYS, API_RATE_LIMIT: '3', RATE_LIMIT_MAX: '100000' });
  const api = () => request(fixture.running.server);

  it('counts each key over all routes; past the limit 429 with Retry-After', async () => {
    await api().get('/api/channels/a/history').set('X-API-Key', READER).expect(200);
    await api().get('/api/channels/b/history').set('X-API-Key', READER).expect(200);
    await api().get('/api/channels/c/history').set('X-API-Key', READER).expect(200);
    const refused = await api().get('/api/channels/a/history').set('X-API-Key', READER);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'Too Many Requests' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another key has its own budget.
    await api().get('/api/channels/a/history').set('X-API-Key', ADMIN).expect(200);
  });
});

describe('HTTP API logging', () => {
  const lines: string[] = [];
  const fixture = useApp(
    { API_KEYS, LOG_LEVEL: 'info' },
    { logDestination: { write: (chunk: string) => void lines.push(chunk) } },
  );

  it("logs each call with the key's name, never its secret", async () => {
    await request(fixture.running.server)
      .post('/api/publish')
      .set('Authorization', `Bearer ${PUBLISHER}`)
      .send({ channel: 'logged', message: 1 })
      .expect(200);
    const calls = lines
      .join('')
      .split('\n')
      .filter((line) => line.includes('"api call"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(calls).toContainEqual(
      expect.objectContaining({ key: 'orders', method: 'POST', url: '/api/publish' }),
    );
    expect(lines.join('')).not.toContain(PUBLISHER);
  });
});
