import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { Clock } from '../common/clock';
import { EnvironmentVariables } from '../config/environment';
import { ConnectRateLimit } from './connect-rate-limit';

const STORAGE_TIMEOUT_MS = new EnvironmentVariables().CONNECT_RATE_STORAGE_TIMEOUT_MS;

const clock: Clock = { now: () => Date.now() };
const options = {
  limit: 2,
  windowMs: 60_000,
  keyPrefix: 'p:',
  storageTimeoutMs: STORAGE_TIMEOUT_MS,
};

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

  it('fails open after CONNECT_RATE_STORAGE_TIMEOUT_MS (default) when the storage never answers', async () => {
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

  it('waits CONNECT_RATE_STORAGE_TIMEOUT_MS as configured', async () => {
    jest.useFakeTimers();
    try {
      const silent: ThrottlerStorage = { increment: () => new Promise(() => undefined) };
      const rate = new ConnectRateLimit(silent, { ...options, storageTimeoutMs: 40 }, clock);
      let answered = false;
      const answer = rate.allows('1.2.3.4').then((allowed) => {
        answered = true;
        return allowed;
      });
      await jest.advanceTimersByTimeAsync(39);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await answer).toBe(true);
      expect(rate.failures).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
