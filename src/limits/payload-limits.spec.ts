import { MAX_PAYLOAD_DEPTH, MAX_PAYLOAD_ENTRIES, payloadBoundViolation } from './payload-limits';

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

const TOO_DEEP = `payload must not be nested more than ${MAX_PAYLOAD_DEPTH} levels deep`;
const TOO_MANY = `payload must not have more than ${MAX_PAYLOAD_ENTRIES} keys and array elements in total`;

describe('payloadBoundViolation', () => {
  describe('depth', () => {
    it('counts the payload object itself as level 1', () => {
      const bounds = { maxDepth: 1, maxEntries: 100 };
      expect(payloadBoundViolation({ channel: 'c', message: 'm' }, bounds)).toBeUndefined();
      expect(payloadBoundViolation({ message: { a: 1 } }, bounds)).toMatch(/nested more than 1/);
    });

    it(`accepts exactly ${MAX_PAYLOAD_DEPTH} levels and refuses one more`, () => {
      expect(payloadBoundViolation(nested(MAX_PAYLOAD_DEPTH))).toBeUndefined();
      expect(payloadBoundViolation(nested(MAX_PAYLOAD_DEPTH + 1))).toBe(TOO_DEEP);
    });

    it('handles nesting far beyond the stack without recursion', () => {
      expect(payloadBoundViolation(nested(200_000))).toBe(TOO_DEEP);
    });
  });

  describe('keys and array elements in total', () => {
    it(`accepts exactly ${MAX_PAYLOAD_ENTRIES} and refuses one more, wherever they are`, () => {
      const half = MAX_PAYLOAD_ENTRIES / 2;
      const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [i, i]));
      // channel, message and its two elements (4), then the entries inside those elements.
      const within = { channel: 'c', message: [keys(half - 3), Array(half - 1).fill(0)] };
      expect(payloadBoundViolation(within)).toBeUndefined();
      within.message[1] = Array(half).fill(0);
      expect(payloadBoundViolation(within)).toBe(TOO_MANY);
      expect(payloadBoundViolation(keys(MAX_PAYLOAD_ENTRIES + 1))).toBe(TOO_MANY);
    });

    it('reads no entry past the bound, however large the payload', () => {
      let reads = 0;
      const counted = <T extends object>(target: T): T =>
        new Proxy(target, {
          get(object, key, receiver) {
            reads++;
            return Reflect.get(object, key, receiver) as unknown;
          },
        });
      const wide = counted(
        Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
      );
      const long = counted(Array(100_000).fill('x'));
      for (const payload of [wide, { channel: 'c', message: long }]) {
        reads = 0;
        expect(payloadBoundViolation(payload)).toBe(TOO_MANY);
        expect(reads).toBeLessThanOrEqual(MAX_PAYLOAD_ENTRIES + 1);
      }
    });
  });

  it('ignores primitives and missing payloads', () => {
    for (const payload of [undefined, 'text', null, 0, true]) {
      expect(payloadBoundViolation(payload)).toBeUndefined();
    }
  });
});
