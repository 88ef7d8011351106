import { Clock } from '../common/clock';
import { LogThrottle } from './log-throttle';

class FakeClock extends Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
}

describe('LogThrottle', () => {
  it('lets the first line through, then one per interval with the count it held back', () => {
    const clock = new FakeClock();
    const throttle = new LogThrottle(10_000, clock);

    expect(throttle.take()).toBe(0);
    expect(throttle.take()).toBeUndefined();
    clock.time += 9_999;
    expect(throttle.take()).toBeUndefined();
    clock.time += 1;
    expect(throttle.take()).toBe(2);
    expect(throttle.take()).toBeUndefined();
    clock.time += 60_000;
    expect(throttle.take()).toBe(1);
    clock.time += 10_000;
    expect(throttle.take()).toBe(0);
  });
});
