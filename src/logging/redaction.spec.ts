import { scrubTokens } from './redaction';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';

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
