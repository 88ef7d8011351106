import { parseTtl } from './ttl';

describe('parseTtl', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['90', 90],
    ['1', 1],
    ['007m', 420],
  ])('reads %p as %d seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each([
    '',
    '0',
    '0h',
    '-1',
    '+5',
    '1.5h',
    '1 h',
    ' 1h',
    '1H',
    '1w',
    'h',
    '1hm',
    '1e3',
    '9'.repeat(17),
  ])('refuses %p', (text) => {
    expect(parseTtl(text)).toBeUndefined();
  });
});
