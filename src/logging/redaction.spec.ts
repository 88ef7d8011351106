import { redactQuery, scrubTokens } from './redaction';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';

describe('redactQuery', () => {
  it.each([
    ['/health', '/health'],
    ['/health?', '/health?'],
    ['/health?token=abc', '/health?token=[REDACTED]'],
    ['/ws/secure?a=1&token=abc&b=2', '/ws/secure?a=1&token=[REDACTED]&b=2'],
    ['/x?token=one&token=two', '/x?token=[REDACTED]&token=[REDACTED]'],
    ['/x?access_token=abc', '/x?access_token=[REDACTED]'],
    ['/x?token', '/x?token=[REDACTED]'],
    ['/x?token=abc#frag', '/x?token=[REDACTED]#frag'],
    ['/x?tokens=abc&mytoken=abc', '/x?tokens=abc&mytoken=abc'],
  ])('%s → %s', (url, expected) => {
    expect(redactQuery(url)).toBe(expected);
  });

  it('matches names the way the token extractor decodes them', () => {
    expect(redactQuery('/x?tok%65n=abc')).toBe('/x?tok%65n=[REDACTED]');
    expect(redactQuery('/x?%74oken=abc&ok=1')).toBe('/x?%74oken=[REDACTED]&ok=1');
  });

  it('never throws on a malformed escape', () => {
    expect(redactQuery('/x?%zz=1&token=%E0%A4%A')).toBe('/x?%zz=1&token=[REDACTED]');
  });
});

describe('scrubTokens', () => {
  it('replaces every JWT in a line, wherever it is', () => {
    const line = JSON.stringify({ msg: `bad token ${JWT}`, err: { message: `x ${JWT}` } });
    expect(scrubTokens(line)).toBe(
      JSON.stringify({ msg: 'bad token [REDACTED]', err: { message: 'x [REDACTED]' } }),
    );
  });

  it('leaves a line without a token as it is', () => {
    const line = '{"msg":"connection open","id":"abc.1"}';
    expect(scrubTokens(line)).toBe(line);
  });
});
