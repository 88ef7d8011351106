import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import type { ExecutionContext } from '@nestjs/common';
import { JwtAuthGuard } from '../src/auth/jwt-auth.guard';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { startApp, type RunningApp } from './support/app';
import { withTimeout } from './support/wait';
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
    let running: RunningApp;
    const output: string[] = [];
    let restoreOutput: () => void;

    beforeAll(async () => {
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
      running = await startApp(
        { JWT_SECRET: SECRET },
        { logger: ['log', 'error', 'warn', 'debug', 'verbose'] },
      );
    });

    afterAll(async () => {
      await running.close();
      restoreOutput();
    });

    const url = (path: string) => `${running.wsUrl}${path}`;

    it('greets a valid token on /ws/secure with "Hello {name}: m"', async () => {
      const client = await TestClient.open(url(`/ws/secure?token=${token('alice', 'Alice')}`));
      client.send('hi there');
      expect(await client.nextText()).toBe('Hello Alice: hi there');
      await client.close();
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
      const socket = new WebSocket(url('/ws/secure'), {
        headers: { Authorization: `Bearer ${token('carol', 'Carol')}` },
      });
      const reply = new Promise<string>((resolve, reject) => {
        socket.once('open', () => socket.send('yo'));
        socket.once('message', (data: Buffer) => resolve(data.toString()));
        socket.once('close', (code) => reject(new Error(`closed ${code}`)));
      });
      expect(await withTimeout(reply, 2000, 'the greeting')).toBe('Hello Carol: yo');
      socket.close();
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
      const client = await TestClient.open(url('/ws'));
      client.send('x');
      expect(await client.nextText()).toBe('Echo: x');
      await client.close();
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

    it('closes a live socket with 1008 "Token expired" within 1 s of exp', async () => {
      const exp = nowSeconds() + 2;
      const jwt = craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'erin', exp });
      const client = await TestClient.open(url(`/ws/secure?token=${jwt}`));
      client.send('before');
      expect(await client.nextText()).toBe('Hello erin: before');
      const closed = await client.closed(4000);
      const lateBy = Date.now() - exp * 1000;
      expect(closed).toEqual({ code: 1008, reason: 'Token expired' });
      expect(lateBy).toBeGreaterThanOrEqual(-50);
      expect(lateBy).toBeLessThan(1000);
    });

    it('moves the deadline on a refresh with a token for the same sub', async () => {
      const exp = nowSeconds() + 2;
      const jwt = craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'frank', exp });
      const client = await TestClient.open(url(`/ws/json?token=${jwt}`));
      const fresh = token('frank', 'Frank', 600);
      const freshExp = nowSeconds() + 600;
      client.send(JSON.stringify({ type: 'refresh', payload: { token: fresh }, id: 1 }));
      const refreshed = JSON.parse(await client.nextText()) as {
        type: string;
        data: { exp: number };
        id: number;
      };
      expect(refreshed.type).toBe('refreshed');
      expect(refreshed.id).toBe(1);
      expect(Math.abs(refreshed.data.exp - freshExp)).toBeLessThanOrEqual(1);

      // Past the first token's expiry (plus the 1 s grace) the socket still answers.
      await new Promise((resolve) => setTimeout(resolve, (exp + 1) * 1000 - Date.now() + 100));
      client.send(JSON.stringify({ type: 'ping', id: 2 }));
      expect(JSON.parse(await client.nextText())).toEqual({ type: 'pong', data: {}, id: 2 });
      await client.close();
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
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp({ JWT_SECRET: SECRET, AUTH_REQUIRED: 'true' });
    });

    afterAll(async () => {
      await running.close();
    });

    const url = (path: string) => `${running.wsUrl}${path}`;

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
      const echo = await TestClient.open(url(`/ws?token=${jwt}`));
      echo.send('a');
      expect(await echo.nextText()).toBe('Echo: a');
      const json = await TestClient.open(url(`/ws/json?token=${jwt}`));
      json.send('{"type":"ping"}');
      expect(JSON.parse(await json.nextText())).toEqual({ type: 'pong', data: {} });
      await Promise.all([echo.close(), json.close()]);
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
      const chat = await TestClient.open(url(`/ws/caf%C3%A9?token=${decomposedSub}`));
      chat.send('hi');
      expect(await chat.nextText()).toBe('Client café: hi');
      await chat.close();
    });
  });

  describe('with JWT_ISSUER and JWT_AUDIENCE', () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp({
        JWT_SECRET: SECRET,
        JWT_ISSUER: 'sb-iss',
        JWT_AUDIENCE: 'sb-aud',
      });
    });

    afterAll(async () => {
      await running.close();
    });

    it('accepts only tokens with the configured iss and aud', async () => {
      const header = { alg: 'HS256', typ: 'JWT' };
      const exp = nowSeconds() + 60;
      const good = craft(header, { sub: 'a', iss: 'sb-iss', aud: 'sb-aud', exp });
      const client = await TestClient.open(`${running.wsUrl}/ws/secure?token=${good}`);
      client.send('m');
      expect(await client.nextText()).toBe('Hello a: m');
      await client.close();
      for (const claims of [
        { sub: 'a', exp },
        { sub: 'a', iss: 'other', aud: 'sb-aud', exp },
        { sub: 'a', iss: 'sb-iss', aud: 'other', exp },
      ]) {
        const closed = await refusal(`${running.wsUrl}/ws/secure?token=${craft(header, claims)}`);
        expect(closed).toEqual({ code: 1008, reason: 'Token invalid', frames: 0 });
      }
    });
  });
});
