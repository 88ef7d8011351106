import { IpConnectionCounts } from './ip-connection-counts';

describe('IpConnectionCounts', () => {
  it('gives each IP up to max slots and takes nothing when refusing', () => {
    const counts = new IpConnectionCounts(2);
    expect([counts.tryAcquire('a'), counts.tryAcquire('a'), counts.tryAcquire('a')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(counts.openFrom('a')).toBe(2);
    expect(counts.tryAcquire('b')).toBe(true);
  });

  it('frees a slot on release and forgets an IP with none left', () => {
    const counts = new IpConnectionCounts(1);
    counts.tryAcquire('a');
    counts.release('a');
    expect(counts.size).toBe(0);
    expect(counts.tryAcquire('a')).toBe(true);
    counts.release('a');
    counts.release('a'); // an extra release never goes negative
    expect(counts.openFrom('a')).toBe(0);
  });
});
