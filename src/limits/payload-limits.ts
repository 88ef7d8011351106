/**
 * Bounds on the shape of a /ws/json payload, checked before any library walks it, so the cost
 * of validating a payload follows these limits and the DTO, not what a client sends. A payload
 * over either bound gets "Validation failed" with an `errors` entry for the field `payload`.
 * Both are far above what a real message needs; MAX_MESSAGE_BYTES bounds the bytes.
 */

/**
 * Default of MAX_PAYLOAD_DEPTH: deepest nesting of objects and arrays (the payload object itself
 * is level 1); deeper payloads are refused instead of exhausting the stack.
 */
export const MAX_PAYLOAD_DEPTH = 32;

/**
 * Default of MAX_PAYLOAD_ENTRIES: object keys plus array elements over the whole payload, a
 * published `message` included.
 */
export const MAX_PAYLOAD_ENTRIES = 10_000;

/** The configured bounds (AppConfig.payloadBounds); LimitsModule provides them. */
export class PayloadBounds {
  constructor(
    readonly maxDepth = MAX_PAYLOAD_DEPTH,
    readonly maxEntries = MAX_PAYLOAD_ENTRIES,
  ) {}
}

const DEFAULT_BOUNDS = new PayloadBounds();

/** Which bound a payload breaks. */
export type PayloadBreach = 'depth' | 'entries';

/**
 * Why `payload` breaks a bound, as the message of its error entry, or undefined when it is
 * within both.
 */
export function payloadBoundViolation(
  payload: unknown,
  bounds: PayloadBounds = DEFAULT_BOUNDS,
): string | undefined {
  switch (payloadBreach(payload, bounds)) {
    case 'depth':
      return `payload must not be nested more than ${bounds.maxDepth} levels deep`;
    case 'entries':
      return `payload must not have more than ${bounds.maxEntries} keys and array elements in total`;
    default:
      return undefined;
  }
}

/**
 * The bound `payload` breaks, or undefined. Iterative; each object or array is counted before
 * its entries are read, so it reads at most `maxEntries` entries however large the payload is.
 */
export function payloadBreach(
  payload: unknown,
  { maxDepth, maxEntries }: PayloadBounds = DEFAULT_BOUNDS,
): PayloadBreach | undefined {
  if (!isContainer(payload)) return undefined;
  const nodes: object[] = [payload];
  const levels: number[] = [1];
  let entries = 0;
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const level = levels.pop()!;
    if (level > maxDepth) return 'depth';
    // Counted before any child is read, so a node over the bound is refused unread.
    const keys = Array.isArray(node) ? undefined : Object.keys(node);
    const count = keys === undefined ? (node as unknown[]).length : keys.length;
    entries += count;
    if (entries > maxEntries) return 'entries';
    for (let i = 0; i < count; i++) {
      const child: unknown =
        keys === undefined ? (node as unknown[])[i] : (node as Record<string, unknown>)[keys[i]];
      if (isContainer(child)) {
        nodes.push(child);
        levels.push(level + 1);
      }
    }
  }
  return undefined;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
