import { Clock } from '../common/clock';
import { TokenSigner } from './token-signer';
import { type JwtSettings, TokenVerifier } from './token-verifier';

const SECRET = 'unit-test-secret';
const NOW_MS = 1_700_000_000_500;
const NOW_S = 1_700_000_000;

class FixedClock extends Clock {
  constructor(private readonly ms: number) {
    super();
  }
  now(): number {
    return this.ms;
  }
}

const clock = new FixedClock(NOW_MS);

function decode(token: string): { header: unknown; payload: unknown } {
  const [header, payload] = token.split('.');
  const parse = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString());
  return { header: parse(header), payload: parse(payload) };
}

describe('TokenSigner', () => {
  const settings: JwtSettings = { secret: SECRET };

  it('signs HS256 with iat now and exp ttl later', () => {
    const token = new TokenSigner(settings, clock).sign({ sub: 'alice', name: 'Alice' }, 3600);
    expect(decode(token)).toEqual({
      header: { alg: 'HS256', typ: 'JWT' },
      payload: { sub: 'alice', name: 'Alice', iat: NOW_S, exp: NOW_S + 3600 },
    });
  });

  it('signs tokens the verifier with the same settings accepts until they expire', () => {
    const token = new TokenSigner(settings, clock).sign({ sub: 'alice', name: 'Alice' }, 60);
    expect(new TokenVerifier(settings, clock).verify(token)).toEqual({
      ok: true,
      principal: { sub: 'alice', name: 'Alice', exp: NOW_S + 60 },
    });
    const later = new TokenVerifier(settings, new FixedClock((NOW_S + 60) * 1000));
    expect(later.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([undefined, '', '  '])('omits a name of %p, so verifiers show sub', (name) => {
    const token = new TokenSigner(settings, clock).sign({ sub: 'alice', name }, 60);
    expect(decode(token).payload).not.toHaveProperty('name');
    const result = new TokenVerifier(settings, clock).verify(token);
    expect(result.ok && result.principal.name).toBe('alice');
  });

  it('sets iss and aud when configured, which verifiers then require', () => {
    const strict: JwtSettings = { secret: SECRET, issuer: 'https://auth.example', audience: 'sb' };
    const token = new TokenSigner(strict, clock).sign({ sub: 'alice' }, 60);
    expect(decode(token).payload).toMatchObject({ iss: 'https://auth.example', aud: 'sb' });
    expect(new TokenVerifier(strict, clock).verify(token).ok).toBe(true);
    const otherAudience = new TokenVerifier({ ...strict, audience: 'other' }, clock);
    expect(otherAudience.verify(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('signs with the configured secret only', () => {
    const token = new TokenSigner(settings, clock).sign({ sub: 'alice' }, 60);
    const otherSecret = new TokenVerifier({ secret: 'another-secret' }, clock);
    expect(otherSecret.verify(token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each(['', '   '])('refuses a blank sub %p', (sub) => {
    expect(() => new TokenSigner(settings, clock).sign({ sub }, 60)).toThrow(RangeError);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a ttl of %p', (ttl) => {
    expect(() => new TokenSigner(settings, clock).sign({ sub: 'alice' }, ttl)).toThrow(RangeError);
  });
});
