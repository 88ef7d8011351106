import { nestingExceeds } from './ws-validation.pipe';

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

describe('nestingExceeds', () => {
  it('counts the payload object itself as level 1', () => {
    expect(nestingExceeds({ channel: 'c', message: 'm' }, 1)).toBe(false);
    expect(nestingExceeds({ message: { a: 1 } }, 1)).toBe(true);
  });

  it('accepts exactly max levels and refuses one more', () => {
    expect(nestingExceeds(nested(32), 32)).toBe(false);
    expect(nestingExceeds(nested(33), 32)).toBe(true);
  });

  it('handles nesting far beyond the stack without recursion', () => {
    expect(nestingExceeds(nested(200_000), 32)).toBe(true);
  });

  it('ignores primitives and missing payloads', () => {
    expect(nestingExceeds(undefined, 32)).toBe(false);
    expect(nestingExceeds('text', 32)).toBe(false);
    expect(nestingExceeds(null, 32)).toBe(false);
  });
});
