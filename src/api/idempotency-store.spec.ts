import type { Clock } from '../common/clock';
import { IDEMPOTENCY_TTL_MS, MemoryIdempotencyStore } from './idempotency-store';

class ManualClock implements Clock {
  value = 0;
  now(): number {
    return this.value;
  }
}

describe('MemoryIdempotencyStore', () => {
  it('claims a key once, then reports it pending, then done with the result', async () => {
    const store = new MemoryIdempotencyStore(new ManualClock());
    expect(await store.claim('k')).toEqual({ state: 'claimed' });
    expect(await store.claim('k')).toEqual({ state: 'pending' });
    await store.complete('k', { offset: 1 });
    expect(await store.claim('k')).toEqual({ state: 'done', result: { offset: 1 } });
  });

  it('forgets a released key and every key after the TTL', async () => {
    const clock = new ManualClock();
    const store = new MemoryIdempotencyStore(clock);
    await store.claim('failed');
    await store.release('failed');
    expect(await store.claim('failed')).toEqual({ state: 'claimed' });
    await store.complete('failed', 1);
    clock.value = IDEMPOTENCY_TTL_MS - 1;
    expect((await store.claim('failed')).state).toBe('done');
    clock.value = IDEMPOTENCY_TTL_MS;
    expect(await store.claim('failed')).toEqual({ state: 'claimed' });
  });
});
