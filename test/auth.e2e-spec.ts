import { createHmac } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { JwtAuthGuard } from '../src/auth/jwt-auth.guard';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { useApp } from './support/app';
import { TestClient, type Closed } from './support/ws-client';

const SECRET = 'e2e-auth-secret';
const signer = new TokenSigner({ secret: SECRET }, new SystemClock());
const token = (sub: string, name?: string, ttlSeconds = 60) =>
  signer.sign({ sub, name }, ttlSeconds);

/** Signs arbitrary header and claims with HMAC-SHA (or none), for tokens the signer refuses to make. */
function craft(header: object, claims: object, secret = SECRET, hash = 'sha256'): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode(header)}.${encode(claims)}`;
  const alg = (header as { alg?: string }).alg;
  const signature = alg === 'none' ? '' : createHmac(hash, secret).update(body).digest('base64url');
  return `${body}.${signature}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Opens `url` (the upgrade must succeed) and waits for the server's close. */
async function refusal(url: string): Promise<Closed & { frames: number }> {
  const client = await TestClient.open(url);
  const closed = await client.closed();
  return { ...closed, frames: client.unread.length };
}

describe('JWT authentication', () => {
  describe('with AUTH_REQUIRED=false', () => {
    const output: string[] = [];
    let restoreOutput: () => void;

    // Before useApp's beforeAll: the capture sees the app from its first line.
    beforeAll(() => {
      // Capture everything the app writes at the most verbose level, to prove tokens never
      // reach the logs.
      const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        output.push(String(chunk));
        return true;
      });
      const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
        output.push(String(chunk));
        return true;
      });
      restoreOutput = () => {
        out.mockRestore();
        err.mockRestore();
      };
    });
    const fixture = useApp(
      { JWT_SECRET: SECRET },
      { logger: ['log', 'error', 'warn', 'debug', 'verbose'] },
    );

    afterAll(() => restoreOutput());

    const url = (path: string) => `${fixture.running.wsUrl}${path}`;

    it('greets a valid token on /ws/secure with "Hello {name}: m"', async () => {
      await fixture
        .request()
        .ws(`/ws/secure?token=${token('alice', 'Alice')}`)
        .sendText('hi there')
        .expectText('Hello Alice: hi there')
        .close()
        .expectClosed();
    });

    it('falls back to sub when name is missing or empty', async () => {
      for (const name of [undefined, '']) {
        const client = await TestClient.open(url(`/ws/secure?token=${token('bob', name)}`));
        client.send('m');
        expect(await client.nextText()).toBe('Hello bob: m');
        await client.close();
      }
    });

    it('takes the token from Authorization: Bearer', async () => {
      await fixture
        .request()
        .ws('/ws/secure')
        .set('Authorization', `Bearer ${token('carol', 'Carol')}`)
        .sendText('yo')
        .expectText('Hello Carol: yo')
        .close()
        .expectClosed();
    });

    it.each([
      ['no token', '', 'Token missing'],
      [
        'a wrong secret',
        craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'a' }, 'nope'),
        'Token invalid',
      ],
      ['alg none', craft({ alg: 'none', typ: 'JWT' }, { sub: 'a' }), 'Token invalid'],
      [
        'HS512',
        craft({ alg: 'HS512', typ: 'JWT' }, { sub: 'a' }, SECRET, 'sha512'),
        'Token invalid',
      ],
      ['a missing sub', craft({ alg: 'HS256', typ: 'JWT' }, { name: 'x' }), 'Token invalid'],
      [
        'an expired token',
        craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'a', exp: nowSeconds() - 10 }),
        'Token expired',
      ],
      ['garbage', 'not.a.token', 'Token invalid'],
    ])('refuses /ws/secure with %s: upgrade succeeds, then 1008', async (_, jwt, reason) => {
      const closed = await refusal(url(`/ws/secure${jwt ? `?token=${jwt}` : ''}`));
      expect(closed).toEqual({ code: 1008, reason, frames: 0 });
    });

    it('lets anonymous clients use the open endpoints', async () => {
      await fixture.request().ws('/ws').sendText('x').expectText('Echo: x').close().expectClosed();
    });

    it('still refuses a bad token presented on an open endpoint', async () => {
      const bad = craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'a' }, 'wrong');
      expect(await refusal(url(`/ws?token=${bad}`))).toMatchObject({ code: 1008 });
      expect(await refusal(url(`/ws/room/r1?token=${bad}`))).toMatchObject({ code: 1008 });
      expect(await refusal(url(`/ws/json?token=${bad}`))).toMatchObject({ code: 1008 });
    });

    it('requires the chat client_id to match a presented token', async () => {
      expect(await refusal(url(`/ws/mallory?token=${token('alice')}`))).toMatchObject({
        code: 1008,
      });
      const client = await TestClient.open(url(`/ws/alice?token=${token('alice')}`));
      client.send('hello');
      expect(await client.nextText()).toBe('Client alice: hello');
      await client.close();
    });

    /**
     * Makes the JWT guard asynchronous until `decide()` is called, as a guard that looks a token
     * up remotely would be. `restore()` puts the synchronous guard back.
     */
    function deferGuard(): { decide: () => void; restore: () => void } {
      // The instance @UseGuards resolved is the gateway module's own: spy on the class.
      const { canActivate } = JwtAuthGuard.prototype;
      let decide!: () => void;
      const decided = new Promise<void>((resolve) => (decide = resolve));
      const spy = jest
        .spyOn(JwtAuthGuard.prototype, 'canActivate')
        .mockImplementation(async function (
          this: JwtAuthGuard,
          context: ExecutionContext,
        ): Promise<boolean> {
          await decided;
          return canActivate.call(this, context);
        } as unknown as JwtAuthGuard['canActivate']);
      return { decide, restore: () => spy.mockRestore() };
    }

    const sendAndFlush = (client: TestClient, text: string) =>
      new Promise<void>((resolve, reject) =>
        client.socket.send(text, (error) => (error ? reject(error) : resolve())),
      );

    it('never handles a frame sent before an asynchronous refusal', async () => {
      const guard = deferGuard();
      try {
        const bad = craft({ alg: 'none', typ: 'JWT' }, { sub: 'a' });
        const client = await TestClient.open(url(`/ws?token=${bad}`));
        // Both frames are on the wire (written to the socket) before the guard decides.
        await sendAndFlush(client, 'must never be echoed');
        await sendAndFlush(client, 'nor this');
        guard.decide();
        const closed = await client.closed();
        expect(closed).toEqual({ code: 1008, reason: 'Token invalid' });
        expect(client.unread).toHaveLength(0);
      } finally {
        guard.restore();
      }
    });

    it('handles, not loses, frames sent while an asynchronous guard accepts', async () => {
      const guard = deferGuard();
      try {
        const client = await TestClient.open(url(`/ws?token=${token('dave')}`));
        await sendAndFlush(client, 'early');
        guard.decide();
        expect(await client.nextText()).toBe('Echo: early');
        await client.close();
      } finally {
        guard.restore();
      }
    });

    it('refuses a refresh for another sub, or with a bad token, and keeps the connection', async () => {
      const client = await TestClient.open(url(`/ws/json?token=${token('gina')}`));
      client.send(JSON.stringify({ type: 'refresh', payload: { token: token('hank') }, id: 'r1' }));
      expect(JSON.parse(await client.nextText())).toEqual({
        type: 'error',
        data: { message: 'Token subject does not match' },
        id: 'r1',
      });
      const bad = craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'gina' }, 'wrong');
      client.send(JSON.stringify({ type: 'refresh', payload: { token: bad }, id: 'r2' }));
      expect(JSON.parse(await client.nextText())).toEqual({
        type: 'error',
        data: { message: 'Token invalid' },
        id: 'r2',
      });
      client.send(JSON.stringify({ type: 'ping', id: 3 }));
      expect(JSON.parse(await client.nextText())).toEqual({ type: 'pong', data: {}, id: 3 });
      await client.close();
    });

    it('never writes a token to the logs', () => {
      const logs = output.join('');
      expect(logs.length).toBeGreaterThan(0); // the capture works: Nest logged its startup
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
    });
  });

  describe('with AUTH_REQUIRED=true', () => {
    const fixture = useApp({ JWT_SECRET: SECRET, AUTH_REQUIRED: 'true' });
    const url = (path: string) => `${fixture.running.wsUrl}${path}`;

    it.each(['/ws', '/ws/alice', '/ws/room/r', '/ws/subscribe/c', '/ws/json', '/ws/secure'])(
      'refuses %s without a token with 1008 "Token missing"',
      async (path) => {
        expect(await refusal(url(path))).toEqual({
          code: 1008,
          reason: 'Token missing',
          frames: 0,
        });
      },
    );

    it('serves every endpoint with a valid token', async () => {
      const jwt = token('alice', 'Alice');
      await fixture
        .request()
        .ws(`/ws?token=${jwt}`)
        .sendText('a')
        .expectText('Echo: a')
        .close()
        .expectClosed();
      await fixture
        .request()
        .ws(`/ws/json?token=${jwt}`)
        .sendText('{"type":"ping"}')
        .expectJson({ type: 'pong', data: {} })
        .close()
        .expectClosed();
    });

    it('requires the chat client_id to equal the token sub', async () => {
      expect(await refusal(url(`/ws/bob?token=${token('alice')}`))).toEqual({
        code: 1008,
        reason: 'Client id does not match token subject',
        frames: 0,
      });
      const alice = await TestClient.open(url(`/ws/alice?token=${token('alice')}`));
      alice.send('hi');
      expect(await alice.nextText()).toBe('Client alice: hi');
      await alice.close();
    });

    it('compares client_id and sub in NFC, whichever form each was written in', async () => {
      const decomposedSub = token('cafe\u0301');
      await fixture
        .request()
        .ws(`/ws/caf%C3%A9?token=${decomposedSub}`)
        .sendText('hi')
        .expectText('Client café: hi')
        .close()
        .expectClosed();
    });
  });

  describe('with JWT_ISSUER and JWT_AUDIENCE', () => {
    const fixture = useApp({ JWT_SECRET: SECRET, JWT_ISSUER: 'sb-iss', JWT_AUDIENCE: 'sb-aud' });

    it('accepts only tokens with the configured iss and aud', async () => {
      const header = { alg: 'HS256', typ: 'JWT' };
      const exp = nowSeconds() + 60;
      const good = craft(header, { sub: 'a', iss: 'sb-iss', aud: 'sb-aud', exp });
      await fixture
        .request()
        .ws(`/ws/secure?token=${good}`)
        .sendText('m')
        .expectText('Hello a: m')
        .close()
        .expectClosed();
      for (const claims of [
        { sub: 'a', exp },
        { sub: 'a', iss: 'other', aud: 'sb-aud', exp },
        { sub: 'a', iss: 'sb-iss', aud: 'other', exp },
      ]) {
        const closed = await refusal(
          `${fixture.running.wsUrl}/ws/secure?token=${craft(header, claims)}`,
        );
        expect(closed).toEqual({ code: 1008, reason: 'Token invalid', frames: 0 });
      }
    });
  });
});
