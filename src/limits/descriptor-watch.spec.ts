import { Logger } from '@nestjs/common';
import { DescriptorWatch, type DescriptorSource } from './descriptor-watch';

describe('DescriptorWatch', () => {
  let now = 0;
  const clock = { now: () => now };
  let warn: jest.SpyInstance;

  beforeEach(() => {
    now = 0;
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => warn.mockRestore());

  const lines = (): string[] => (warn.mock.calls as unknown[][]).map((call) => String(call[0]));

  const watching = (open: () => number | undefined, limit = 100) =>
    new DescriptorWatch(clock, { open, limit: () => limit } satisfies DescriptorSource);

  it('stays quiet below 90% of the limit', () => {
    watching(() => 89).check();
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns from 90% on, at most once per 10 s, counting the ones held back', () => {
    const watch = watching(() => 95);
    watch.check();
    now += 1000;
    watch.check();
    now += 10_000;
    watch.check();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(lines()[0]).toMatch(/nearly exhausted \(95 of 100 in use\).*EMFILE/);
    expect(lines()[1]).toMatch(/\(1 more since the last report\)/);
  });

  it('reports exhaustion when counting itself found no descriptor left', () => {
    watching(() => Number.POSITIVE_INFINITY).check();
    expect(lines()[0]).toMatch(/exhausted \(100 of 100 in use\)/);
  });

  it('does nothing where the platform cannot count', () => {
    watching(() => undefined).check();
    expect(warn).not.toHaveBeenCalled();
  });
});
