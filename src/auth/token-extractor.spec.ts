import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { type ExtractedToken, extractToken } from './token-extractor';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const OTHER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl';

const present = (token: string): ExtractedToken => ({ kind: 'present', token });
const ABSENT: ExtractedToken = { kind: 'absent' };
const AMBIGUOUS: ExtractedToken = { kind: 'ambiguous' };

const extract = (url: string | undefined, headers: IncomingHttpHeaders = {}) =>
  extractToken({ url, headers });
const bearer = (value: string): IncomingHttpHeaders => ({ authorization: value });

describe('extractToken', () => {
  it('reads ?token= among other parameters', () => {
    expect(extract(`/ws?token=${TOKEN}`)).toEqual(present(TOKEN));
    expect(extract(`/ws/room/a?x=1&token=${TOKEN}&y=2`)).toEqual(present(TOKEN));
  });

  it('percent-decodes the query token', () => {
    const encoded = [...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect(extract(`/ws?token=${encoded}`)).toEqual(present(TOKEN));
  });

  it('ignores the fragment and other parameter names', () => {
    expect(extract(`/ws?token=${TOKEN}#token=${OTHER}`)).toEqual(present(TOKEN));
    expect(extract(`/ws?access_token=${TOKEN}&Token=${TOKEN}`)).toEqual(ABSENT);
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('reads Authorization: %s <token>', (scheme) => {
    expect(extract('/ws', bearer(`${scheme} ${TOKEN}`))).toEqual(present(TOKEN));
  });

  it('tolerates extra whitespace around the scheme and the token', () => {
    expect(extract('/ws', bearer(`  Bearer \t  ${TOKEN}  `))).toEqual(present(TOKEN));
  });

  it('passes a Bearer value with inner spaces through as is, for verification to refuse', () => {
    expect(extract('/ws', bearer(`Bearer ${TOKEN} extra`))).toEqual(present(`${TOKEN} extra`));
  });

  it('ignores an Authorization header with another scheme', () => {
    expect(extract('/ws', bearer('Basic YWxpY2U6c2VjcmV0'))).toEqual(ABSENT);
    expect(extract(`/ws?token=${TOKEN}`, bearer('Basic YWxpY2U6c2VjcmV0'))).toEqual(present(TOKEN));
  });

  it('accepts the same token in the query and the header', () => {
    expect(extract(`/ws?token=${TOKEN}`, bearer(`Bearer ${TOKEN}`))).toEqual(present(TOKEN));
    expect(extract(`/ws?token=${TOKEN}&token=${TOKEN}`)).toEqual(present(TOKEN));
  });

  it('marks two different tokens as ambiguous, whichever places they come from', () => {
    expect(extract(`/ws?token=${TOKEN}`, bearer(`Bearer ${OTHER}`))).toEqual(AMBIGUOUS);
    expect(extract(`/ws?token=${TOKEN}&token=${OTHER}`)).toEqual(AMBIGUOUS);
  });

  it.each([
    ['no query and no header', '/ws', {}],
    ['no url at all', undefined, {}],
    ['an empty query token', '/ws?token=', {}],
    ['a bare ?token', '/ws?token', {}],
    ['a Bearer header without a token', '/ws', bearer('Bearer')],
    ['a Bearer header with blanks only', '/ws', bearer('Bearer    ')],
    ['an empty Authorization header', '/ws', bearer('')],
  ])('finds nothing in %s', (_, url, headers) => {
    expect(extract(url, headers)).toEqual(ABSENT);
  });

  it('lets an empty value give way to a real one', () => {
    expect(extract(`/ws?token=`, bearer(`Bearer ${TOKEN}`))).toEqual(present(TOKEN));
    expect(extract(`/ws?token=${TOKEN}`, bearer('Bearer '))).toEqual(present(TOKEN));
  });

  it.each([
    ['a broken escape', '/ws?token=%E0%A4%A', present('\uFFFD%A')],
    ['a lone percent sign', '/ws?token=%', present('%')],
    ['no path', '?token=abc', present('abc')],
    ['a protocol-relative path', '//?token=abc', present('abc')],
    ['an absolute URL', 'http://[::1/ws?token=abc', present('abc')],
    ['only a question mark', '?', ABSENT],
  ])('tolerates a malformed URL: %s', (_, url, expected) => {
    expect(extract(url)).toEqual(expected);
  });

  it('never throws, whatever the URL and Authorization header', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (url, auth) => {
        expect(['absent', 'present', 'ambiguous']).toContain(extract(url, bearer(auth)).kind);
      }),
      { seed: 20_240_601, numRuns: 500 },
    );
  });
});
