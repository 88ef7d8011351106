import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerException, type ThrottlerStorage } from '@nestjs/throttler';
import { HttpThrottlerGuard } from './http-throttler.guard';

class Routes {
  devToken(): void {}
}

/** An HTTP ExecutionContext for Routes.devToken from 192.0.2.1, recording response headers. */
function httpContext(type = 'http') {
  const headers: Record<string, unknown> = {};
  const response = { header: (name: string, value: unknown) => (headers[name] = value) };
  const context = {
    getType: () => type,
    getClass: () => Routes,
    getHandler: () => Routes.prototype.devToken,
    switchToHttp: () => ({
      getRequest: () => ({ ip: '192.0.2.1', headers: {} }),
      getResponse: () => response,
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

async function guardOver(storage: Partial<ThrottlerStorage>): Promise<HttpThrottlerGuard> {
  const guard = new HttpThrottlerGuard(
    { throttlers: [{ name: 'default', limit: 1, ttl: 1000 }] },
    storage as ThrottlerStorage,
    new Reflector(),
  );
  await guard.onModuleInit();
  return guard;
}

const record = (totalHits: number, isBlocked: boolean) => ({
  totalHits,
  timeToExpire: 1,
  isBlocked,
  timeToBlockExpire: isBlocked ? 1 : 0,
});

describe('HttpThrottlerGuard', () => {
  it('refuses past the limit with ThrottlerException and Retry-After, as the stock guard does', async () => {
    const guard = await guardOver({ increment: () => Promise.resolve(record(2, true)) });
    const { context, headers } = httpContext();
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ThrottlerException);
    expect(headers['Retry-After']).toBe(1);
  });

  it('lets a request through when the storage fails', async () => {
    const guard = await guardOver({
      increment: () => Promise.reject(new Error('Stream is not writeable')),
    });
    await expect(guard.canActivate(httpContext().context)).resolves.toBe(true);
  });

  it('lets WebSocket messages through without counting them', async () => {
    const increment = jest.fn(() => Promise.resolve(record(2, true)));
    const guard = await guardOver({ increment });
    await expect(guard.canActivate(httpContext('ws').context)).resolves.toBe(true);
    expect(increment).not.toHaveBeenCalled();
  });
});
