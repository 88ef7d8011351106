import { Clock } from '../common/clock';
import { RateLimiter } from './rate-limiter';

class FakeClock extends Clock {
  constructor(public time = 1_000_000) {
    super();
  }
  now(): number {
    return this.time;
  }
}

describe('RateLimiter', () => {
  let clock: FakeClock;
  let limiter: RateLimiter<string>;

  beforeEach(() => {
    clock = new FakeClock();
    limiter = new RateLimiter<string>(10, 1000, clock);
  });

  it('lets exactly max messages of a burst of max+3 through', () => {
    const verdicts = Array.from({ length: 13 }, () => limiter.allow('a'));
    expect(verdicts.filter(Boolean)).toHaveLength(10);
    expect(verdicts.slice(0, 10).every(Boolean)).toBe(true);
    expect(verdicts.slice(10).some(Boolean)).toBe(false);
  });

  it('starts the window at the first message, not at a wall-clock boundary', () => {
    clock.time = 1_000_999; // one millisecond before a wall-clock second boundary
    for (let i = 0; i < 10; i++) expect(limiter.allow('a')).toBe(true);
    clock.time = 1_001_001; // a new wall-clock second, but the same window
    expect(limiter.allow('a')).toBe(false);
    clock.time = 1_001_998;
    expect(limiter.allow('a')).toBe(false);
    clock.time = 1_001_999; // windowMs after the first message
    expect(limiter.allow('a')).toBe(true);
  });

  it('flows again after the window', () => {
    for (let i = 0; i < 12; i++) limiter.allow('a');
    clock.time += 1000;
    for (let i = 0; i < 10; i++) expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
  });

  it('keeps connections independent', () => {
    for (let i = 0; i < 10; i++) limiter.allow('a');
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.allow('b')).toBe(true);
  });

  it('frees a released key', () => {
    limiter.allow('a');
    limiter.allow('b');
    expect(limiter.size).toBe(2);
    limiter.release('a');
    limiter.release('b');
    expect(limiter.size).toBe(0);
  });

  it('takes back a refunded message within the window', () => {
    for (let i = 0; i < 10; i++) limiter.allow('a');
    expect(limiter.allow('a')).toBe(false);
    limiter.refund('a');
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    limiter.refund('unknown');
    expect(limiter.size).toBe(1);
  });
});
