import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { Clock } from '../common/clock';
import { AuthCloseReason } from './auth-failure';
import type { Principal } from './principal';
import { type JwtSettings, TokenVerifier, type VerifyResult } from './token-verifier';

const SECRET = 'unit-test-secret';
const NOW_S = 1_700_000_000;
const HS256 = { alg: 'HS256', typ: 'JWT' };

class FakeClock extends Clock {
  constructor(public ms: number) {
    super();
  }
  now(): number {
    return this.ms;
  }
}

const b64url = (part: unknown) =>
  Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');

const hmac =
  (hash: 'sha256' | 'sha384' | 'sha512', secret = SECRET) =>
  (input: string) =>
    createHmac(hash, secret).update(input).digest('base64url');

/** Builds a JWT by hand, so that tests control every byte the verifier sees. */
function craft(payload: unknown, header: object = HS256, sign = hmac('sha256')): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign(input)}`;
}

const valid = (claims: Record<string, unknown> = {}) =>
  craft({ sub: 'alice', name: 'Alice', iat: NOW_S, exp: NOW_S + 60, ...claims });

function verifierAt(ms: number, settings: Partial<JwtSettings> = {}): TokenVerifier {
  return new TokenVerifier({ secret: SECRET, ...settings }, new FakeClock(ms));
}

const ok = (principal: Principal): VerifyResult => ({ ok: true, principal });
const refused = (reason: 'missing' | 'invalid' | 'expired'): VerifyResult => ({
  ok: false,
  reason,
});

describe('TokenVerifier', () => {
  const clock = new FakeClock(NOW_S * 1000);
  let verifier: TokenVerifier;

  beforeEach(() => {
    clock.ms = NOW_S * 1000;
    verifier = new TokenVerifier({ secret: SECRET }, clock);
  });

  describe('accepts', () => {
    it('an HS256 token signed with the secret, returning sub, name and exp', () => {
      expect(verifier.verify(valid())).toEqual(
        ok({ sub: 'alice', name: 'Alice', exp: NOW_S + 60 }),
      );
    });

    it.each([
      ['missing', {}],
      ['empty', { name: '' }],
      ['blank', { name: '  ' }],
      ['null', { name: null }],
    ])('a %s name, falling back to sub', (_, claims) => {
      const payload: Record<string, unknown> = { sub: 'alice', exp: NOW_S + 60, ...claims };
      expect(verifier.verify(craft(payload))).toEqual(
        ok({ sub: 'alice', name: 'alice', exp: NOW_S + 60 }),
      );
    });

    it('a token without exp, which never expires (the principal has no exp)', () => {
      const result = verifier.verify(craft({ sub: 'alice' }));
      expect(result).toEqual(ok({ sub: 'alice', name: 'alice' }));
      expect(result.ok && 'exp' in result.principal).toBe(false);
      clock.ms = Number.MAX_SAFE_INTEGER;
      expect(verifier.verify(craft({ sub: 'alice' })).ok).toBe(true);
    });

    it('a token whose nbf has been reached', () => {
      expect(verifier.verify(valid({ nbf: NOW_S })).ok).toBe(true);
    });

    it('any iss and aud when JWT_ISSUER and JWT_AUDIENCE are unset', () => {
      expect(verifier.verify(valid({ iss: 'anyone', aud: ['anything'] })).ok).toBe(true);
    });
  });

  describe('refuses as missing', () => {
    it.each([undefined, ''])('%p', (token) => {
      expect(verifier.verify(token)).toEqual(refused('missing'));
    });
  });

  describe('refuses as invalid', () => {
    it('alg "none" with an empty signature', () => {
      const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'alice' })}.`;
      expect(verifier.verify(unsigned)).toEqual(refused('invalid'));
    });

    it('alg "none" carrying a valid HS256 signature', () => {
      expect(verifier.verify(craft({ sub: 'alice' }, { alg: 'none' }))).toEqual(refused('invalid'));
    });

    it('an HS256 header with the signature stripped', () => {
      const [header, payload] = valid().split('.');
      expect(verifier.verify(`${header}.${payload}.`)).toEqual(refused('invalid'));
    });

    it.each([
      ['HS384', 'sha384'],
      ['HS512', 'sha512'],
    ] as const)('%s signed with the right secret', (alg, hash) => {
      const token = craft({ sub: 'alice', exp: NOW_S + 60 }, { alg, typ: 'JWT' }, hmac(hash));
      expect(verifier.verify(token)).toEqual(refused('invalid'));
    });

    it('RS256, with a real RSA key and with the secret as an HMAC key', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rs256 = (input: string) =>
        createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
      const header = { alg: 'RS256', typ: 'JWT' };
      expect(verifier.verify(craft({ sub: 'alice' }, header, rs256))).toEqual(refused('invalid'));
      expect(verifier.verify(craft({ sub: 'alice' }, header))).toEqual(refused('invalid'));
    });

    it('a wrong secret', () => {
      const token = craft({ sub: 'alice' }, HS256, hmac('sha256', 'another-secret'));
      expect(verifier.verify(token)).toEqual(refused('invalid'));
    });

    it('a payload altered after signing', () => {
      const [header, , signature] = valid().split('.');
      const forged = `${header}.${b64url({ sub: 'mallory', exp: NOW_S + 60 })}.${signature}`;
      expect(verifier.verify(forged)).toEqual(refused('invalid'));
    });

    it.each([
      ['a missing sub', { name: 'Alice' }],
      ['an empty sub', { sub: '' }],
      ['a blank sub', { sub: '   ' }],
      ['a numeric sub', { sub: 42 }],
      ['a non-string name', { sub: 'alice', name: 7 }],
      ['a non-numeric exp', { sub: 'alice', exp: String(NOW_S + 60) }],
      ['a non-numeric nbf', { sub: 'alice', nbf: 'now' }],
      ['an nbf in the future', { sub: 'alice', nbf: NOW_S + 1 }],
    ])('%s', (_, payload) => {
      expect(verifier.verify(craft(payload))).toEqual(refused('invalid'));
    });

    it.each([
      ['a JSON array', '[{"sub":"alice"}]'],
      ['a JSON string', '"alice"'],
      ['JSON null', 'null'],
      ['not JSON', 'sub=alice'],
    ])('a signed payload that is %s', (_, payloadText) => {
      expect(verifier.verify(craft(payloadText))).toEqual(refused('invalid'));
    });

    it.each([
      ['a word', 'garbage'],
      ['three dots of nothing', '..'],
      ['three non-base64 parts', 'a.b.c'],
      ['two parts', 'a.b'],
      ['four parts', 'a.b.c.d'],
      ['a space', ' '],
      ['a valid token with a trailing space', `${valid()} `],
      ['a token with its scheme', `Bearer ${valid()}`],
    ])('garbage: %s', (_, token) => {
      expect(verifier.verify(token)).toEqual(refused('invalid'));
    });

    it('an expired token signed with a wrong secret (expiry is not revealed for forgeries)', () => {
      const token = craft({ sub: 'alice', exp: NOW_S - 1 }, HS256, hmac('sha256', 'wrong'));
      expect(verifier.verify(token)).toEqual(refused('invalid'));
    });

    it('never throws, whatever the string', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (token) => {
          expect(verifier.verify(token).ok).toBe(false);
        }),
        { seed: 20_240_601, numRuns: 500 },
      );
    });

    it('never throws for any correctly signed JSON payload', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (payload) => {
          const result = verifier.verify(craft(payload));
          expect(['ok', 'invalid', 'expired']).toContain(result.ok ? 'ok' : result.reason);
        }),
        { seed: 20_240_601, numRuns: 500 },
      );
    });
  });

  describe('expiry, against the injected clock with no tolerance', () => {
    const token = craft({ sub: 'alice', exp: NOW_S + 60 });

    it('accepts up to the last millisecond before exp', () => {
      clock.ms = (NOW_S + 60) * 1000 - 1;
      expect(verifier.verify(token).ok).toBe(true);
    });

    it('refuses as expired from exp on', () => {
      clock.ms = (NOW_S + 60) * 1000;
      expect(verifier.verify(token)).toEqual(refused('expired'));
      clock.ms += 86_400_000;
      expect(verifier.verify(token)).toEqual(refused('expired'));
    });

    it('reports invalid, not expired, when another check fails too', () => {
      const strict = verifierAt(NOW_S * 1000, { audience: 'switchboard' });
      expect(strict.verify(craft({ sub: 'alice', exp: NOW_S - 1, aud: 'other' }))).toEqual(
        refused('invalid'),
      );
      expect(strict.verify(craft({ exp: NOW_S - 1, aud: 'switchboard' }))).toEqual(
        refused('invalid'),
      );
    });
  });

  describe('issuer and audience, when configured', () => {
    const configured = () =>
      verifierAt(NOW_S * 1000, { issuer: 'https://auth.example', audience: 'switchboard' });

    it('accepts the configured iss and aud, aud alone or in an array', () => {
      const result = configured().verify(
        valid({ iss: 'https://auth.example', aud: 'switchboard' }),
      );
      expect(result.ok).toBe(true);
      expect(
        configured().verify(valid({ iss: 'https://auth.example', aud: ['x', 'switchboard'] })).ok,
      ).toBe(true);
    });

    it.each([
      ['another iss', { iss: 'https://evil.example', aud: 'switchboard' }],
      ['no iss', { aud: 'switchboard' }],
      ['another aud', { iss: 'https://auth.example', aud: 'other' }],
      ['no aud', { iss: 'https://auth.example' }],
      ['aud in an array without ours', { iss: 'https://auth.example', aud: ['a', 'b'] }],
    ])('refuses %s as invalid', (_, claims) => {
      expect(configured().verify(valid(claims))).toEqual(refused('invalid'));
    });

    it('checks only the one that is configured', () => {
      expect(verifierAt(NOW_S * 1000, { issuer: 'i' }).verify(valid({ iss: 'i' })).ok).toBe(true);
      expect(verifierAt(NOW_S * 1000, { audience: 'a' }).verify(valid({ aud: 'a' })).ok).toBe(true);
    });
  });

  it('returns nothing that quotes the token', () => {
    const token = craft({ sub: 'alice', exp: NOW_S - 1 });
    for (const candidate of [token, `${token}x`, craft({ sub: '' })]) {
      expect(JSON.stringify(verifier.verify(candidate))).not.toContain(candidate.split('.')[2]);
    }
  });

  describe('authenticate', () => {
    it('verifies the token of the query or of the Authorization header', () => {
      const token = valid();
      expect(verifier.authenticate({ url: `/ws?token=${token}`, headers: {} }).ok).toBe(true);
      expect(
        verifier.authenticate({ url: '/ws', headers: { authorization: `Bearer ${token}` } }).ok,
      ).toBe(true);
    });

    it('refuses no token as missing and two different tokens as invalid', () => {
      expect(verifier.authenticate({ url: '/ws', headers: {} })).toEqual(refused('missing'));
      const twoTokens = {
        url: `/ws?token=${valid()}`,
        headers: { authorization: `Bearer ${valid({ name: 'Other' })}` },
      };
      expect(verifier.authenticate(twoTokens)).toEqual(refused('invalid'));
    });

    it('refuses a bad token found in the request', () => {
      expect(verifier.authenticate({ url: '/ws?token=nope', headers: {} })).toEqual(
        refused('invalid'),
      );
    });
  });

  describe('verifyRefresh', () => {
    const current: Principal = { sub: 'alice', name: 'Alice', exp: NOW_S + 10 };

    it('accepts a token for the same sub, with its new name and expiry', () => {
      const result = verifier.verifyRefresh(
        current,
        valid({ name: 'Alice B.', exp: NOW_S + 3600 }),
      );
      expect(result).toEqual(ok({ sub: 'alice', name: 'Alice B.', exp: NOW_S + 3600 }));
    });

    it('refuses a valid token for another sub as subject-mismatch', () => {
      expect(verifier.verifyRefresh(current, valid({ sub: 'bob' }))).toEqual({
        ok: false,
        reason: 'subject-mismatch',
      });
    });

    it('refuses missing, invalid and expired tokens like verify', () => {
      expect(verifier.verifyRefresh(current, undefined)).toEqual(refused('missing'));
      expect(verifier.verifyRefresh(current, 'garbage')).toEqual(refused('invalid'));
      expect(verifier.verifyRefresh(current, valid({ exp: NOW_S }))).toEqual(refused('expired'));
    });
  });
});

describe('AuthCloseReason', () => {
  it('gives each refusal its close reason, within the 123 bytes RFC 6455 allows', () => {
    expect(AuthCloseReason).toEqual({
      missing: 'Token missing',
      invalid: 'Token invalid',
      expired: 'Token expired',
    });
    for (const reason of Object.values(AuthCloseReason)) {
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    }
  });
});
