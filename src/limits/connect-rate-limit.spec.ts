import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { Clock } from '../common/clock';
import { ConnectRateLimit, STORAGE_TIMEOUT_MS } from './connect-rate-limit';

const clock: Clock = { now: () => Date.now() };
const options = { limit: 2, windowMs: 60_000, keyPrefix: 'p:' };

describe('ConnectRateLimit', () => {
  let memory: ThrottlerStorageService;

  beforeEach(() => {
    memory = new ThrottlerStorageService();
  });

  afterEach(() => {
    memory.onApplicationShutdown();
  });

  it('allows `limit` upgrades per IP and window, then refuses', async () => {
    const rate = new ConnectRateLimit(memory, options, clock);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await rate.allows('1.2.3.4'));
    expect(answers).toEqual([true, true, false, false]);
    expect(await rate.allows('5.6.7.8')).toBe(true);
    expect(rate.failures).toBe(0);
  });

  it('fails open, counting the failure, when the storage rejects', async () => {
    const failing: ThrottlerStorage = {
      increment: () => Promise.reject(new Error('Stream is not writeable')),
    };
    const rate = new ConnectRateLimit(failing, options, clock);
    expect(await rate.allows('1.2.3.4')).toBe(true);
    expect(await rate.allows('1.2.3.4')).toBe(true);
    expect(rate.failures).toBe(2);
  });

  it('fails open after STORAGE_TIMEOUT_MS when the storage never answers', async () => {
    jest.useFakeTimers();
    try {
      const silent: ThrottlerStorage = { increment: () => new Promise(() => undefined) };
      const rate = new ConnectRateLimit(silent, options, clock);
      const answer = rate.allows('1.2.3.4');
      await jest.advanceTimersByTimeAsync(STORAGE_TIMEOUT_MS);
      expect(await answer).toBe(true);
      expect(rate.failures).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
