import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { TokenVerifier } from '../../src/auth/token-verifier';
import { useApp } from '../support/app';

/**
 * The console's HTTP side, without a browser: the page and its files at GET /, and
 * POST /auth/dev-token, which exists outside production only. The browser itself is driven in
 * console.e2e-spec.ts.
 */

const ROOT = join(__dirname, '..', '..');
const PUBLIC_DIR = join(ROOT, 'src', 'console', 'public');
const DEV_TOKEN_TTL_SECONDS = 900;

describe('browser console over HTTP', () => {
  // These tests sign about 15 tokens within a second, from one IP, on one route: more than the
  // default limit of 10 per second that the HTTP throttler applies there.
  const fixture = useApp({ RATE_LIMIT_MAX: '50' });
  const { clients } = fixture;

  describe('GET / and its files', () => {
    it.each([
      ['/', 'index.html', /^text\/html; charset=utf-8$/],
      ['/console.js', 'console.js', /^text\/javascript; charset=utf-8$/],
      ['/console.css', 'console.css', /^text\/css; charset=utf-8$/],
      ['/client.js', 'client.js', /^text\/javascript; charset=utf-8$/],
    ])('serves %s as %s', async (path, file, contentType) => {
      const response = await request(fixture.running.server).get(path);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(contentType);
      expect(response.text).toBe(readFileSync(join(PUBLIC_DIR, file), 'utf8'));
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-cache');
    });

    it('locks the page to its own origin with a Content-Security-Policy', async () => {
      const response = await request(fixture.running.server).get('/');
      const policy = String(response.headers['content-security-policy']);
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("connect-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
    });

    it('gives every control of the page a stable id and a label', async () => {
      const html = (await request(fixture.running.server).get('/')).text;
      for (const id of ['endpoint', 'param', 'token', 'token-sub', 'message', 'json-channel']) {
        expect(html).toContain(`id="${id}"`);
        expect(html).toContain(`for="${id}"`);
      }
      for (const testId of ['connect', 'disconnect', 'send', 'dev-token', 'log', 'close-code']) {
        expect(html).toContain(`data-testid="${testId}"`);
      }
    });

    it('is copied to dist by nest build (nest-cli.json assets cover the folder)', () => {
      const cli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
        sourceRoot: string;
        compilerOptions: { assets?: ({ include: string } | string)[] };
      };
      const includes = (cli.compilerOptions.assets ?? []).map((asset) =>
        typeof asset === 'string' ? asset : asset.include,
      );
      expect(cli.sourceRoot).toBe('src');
      expect(includes).toContain('console/public/**/*');
      expect(readdirSync(PUBLIC_DIR).sort()).toEqual([
        'client.js',
        'console.css',
        'console.js',
        'index.html',
      ]);
    });
  });

  describe('POST /auth/dev-token (NODE_ENV=test)', () => {
    it('signs a short-lived token the server accepts', async () => {
      const response = await request(fixture.running.server)
        .post('/auth/dev-token')
        .send({ sub: 'alice', name: 'Alice' });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.body as { token: string; expiresIn: number };
      expect(Object.keys(body).sort()).toEqual(['expiresIn', 'token']);
      expect(body.expiresIn).toBe(DEV_TOKEN_TTL_SECONDS);

      const verified = fixture.running.app.get(TokenVerifier).verify(body.token);
      if (!verified.ok) throw new Error(`The dev token was refused: ${verified.reason}`);
      expect(verified.principal.sub).toBe('alice');
      expect(verified.principal.name).toBe('Alice');
      const issuedAt = (decodeClaims(body.token) as { iat: number }).iat;
      expect(verified.principal.exp).toBe(issuedAt + DEV_TOKEN_TTL_SECONDS);

      const secure = await clients.open(`/ws/secure?token=${encodeURIComponent(body.token)}`);
      secure.send('hi');
      await expect(secure.nextText()).resolves.toBe('Hello Alice: hi');
    });

    it('names the token after sub when no name is given', async () => {
      const response = await request(fixture.running.server)
        .post('/auth/dev-token')
        .send({ sub: 'bob' });
      expect(response.status).toBe(200);
      const verified = fixture.running.app
        .get(TokenVerifier)
        .verify((response.body as { token: string }).token);
      expect(verified).toMatchObject({ ok: true, principal: { sub: 'bob', name: 'bob' } });
    });

    it.each([
      ['no sub', {}],
      ['an empty sub', { sub: '' }],
      ['a sub with a space', { sub: 'a b' }],
      ['a 65-character sub', { sub: 'a'.repeat(65) }],
      ['a sub that is not a string', { sub: 42 }],
      ['a name that is not a string', { sub: 'alice', name: 7 }],
      ['an unknown field', { sub: 'alice', ttl: 99999 }],
      ['an array', [{ sub: 'alice' }]],
    ])('answers 400 to %s', async (_case, body) => {
      const response = await request(fixture.running.server).post('/auth/dev-token').send(body);
      expect(response.status).toBe(400);
      expect(response.body).not.toHaveProperty('token');
    });

    it('says what is wrong with the sub', async () => {
      const response = await request(fixture.running.server)
        .post('/auth/dev-token')
        .send({ sub: 'a b' });
      expect(response.body).toMatchObject({
        statusCode: 400,
        message: ['sub must be 1-64 letters, digits, combining marks (not first) or _ . : - @ +'],
      });
    });

    it('accepts a seed client id as sub: bob@example.com', async () => {
      const response = await request(fixture.running.server)
        .post('/auth/dev-token')
        .send({ sub: 'bob@example.com' });
      expect(response.status).toBe(200);
    });

    it('accepts a sub of exactly 64 characters of the id alphabet', async () => {
      const sub = `Aa0_.:-${'z'.repeat(57)}`;
      const response = await request(fixture.running.server).post('/auth/dev-token').send({ sub });
      expect(response.status).toBe(200);
    });

    it('answers 400 to a body that is not JSON', async () => {
      const response = await request(fixture.running.server)
        .post('/auth/dev-token')
        .set('Content-Type', 'application/json')
        .send('{"sub":');
      expect(response.status).toBe(400);
    });
  });

  describe('in production', () => {
    const production = useApp({
      NODE_ENV: 'production',
      JWT_SECRET: 'console-test-secret-of-32-bytes-or-more',
    });

    it('has no /auth/dev-token route (404)', async () => {
      const response = await request(production.running.server)
        .post('/auth/dev-token')
        .send({ sub: 'alice' });
      expect(response.status).toBe(404);
      expect(response.body).not.toHaveProperty('token');
    });

    it('still serves the console page', async () => {
      const response = await request(production.running.server).get('/');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    });
  });
});

/** The claims of a JWT, unverified. */
function decodeClaims(token: string): unknown {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
