import type { JsonValue } from '../bus/bus';
import type { RedisConnection } from '../bus/redis-connection';
import type { Clock } from '../common/clock';

/** How long a result stays replayable under its Idempotency-Key. */
export const IDEMPOTENCY_TTL_MS = 5 * 60_000;

/** What a claim found: the key was free (and is now ours), is being worked on, or has a result. */
export type IdempotencyClaim =
  | { readonly state: 'claimed' }
  | { readonly state: 'pending' }
  | { readonly state: 'done'; readonly result: JsonValue };

/**
 * Results of API calls by Idempotency-Key, for IDEMPOTENCY_TTL_MS from the first call. `claim`
 * is atomic: of concurrent calls with one key exactly one gets `claimed`. The claimant then
 * `complete`s with its result, or `release`s the key when it failed, so a retry runs again.
 */
export abstract class IdempotencyStore {
  abstract claim(key: string): Promise<IdempotencyClaim>;
  abstract complete(key: string, result: JsonValue): Promise<void>;
  abstract release(key: string): Promise<void>;
}

type Stored =
  { readonly state: 'pending' } | { readonly state: 'done'; readonly result: JsonValue };

const PENDING = JSON.stringify({ state: 'pending' } satisfies Stored);

/** One process: a Map, swept from its oldest entry (entries are inserted in time order). */
export class MemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, { stored: Stored; expiresAt: number }>();

  constructor(private readonly clock: Clock) {
    super();
  }

  claim(key: string): Promise<IdempotencyClaim> {
    this.sweep();
    const entry = this.entries.get(key);
    if (entry) return Promise.resolve(entry.stored);
    const expiresAt = this.clock.now() + IDEMPOTENCY_TTL_MS;
    this.entries.set(key, { stored: { state: 'pending' }, expiresAt });
    return Promise.resolve({ state: 'claimed' });
  }

  complete(key: string, result: JsonValue): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) entry.stored = { state: 'done', result };
    return Promise.resolve();
  }

  release(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, { expiresAt }] of this.entries) {
      if (expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}

/** SET NX with the TTL, or the value already there: one round trip, atomic. */
const CLAIM = `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return false end
return redis.call('GET', KEYS[1])`;
/** The result replaces the pending marker and keeps the claim's expiry. */
const COMPLETE = `return redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')`;
const RELEASE = `return redis.call('DEL', KEYS[1])`;

/**
 * Shared by the instances through Redis, so a retry that lands on another instance replays
 * the result too. Keys are `<REDIS_PREFIX>idempotency:<key>`; Redis expires them.
 */
export class RedisIdempotencyStore extends IdempotencyStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {
    super();
  }

  async claim(key: string): Promise<IdempotencyClaim> {
    const found = await this.redis.eval(CLAIM, 1, this.keyOf(key), PENDING, IDEMPOTENCY_TTL_MS);
    if (typeof found !== 'string') return { state: 'claimed' };
    return JSON.parse(found) as Stored;
  }

  async complete(key: string, result: JsonValue): Promise<void> {
    const stored = JSON.stringify({ state: 'done', result } satisfies Stored);
    await this.redis.eval(COMPLETE, 1, this.keyOf(key), stored);
  }

  async release(key: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keyOf(key));
  }

  private keyOf(key: string): string {
    return `${this.prefix}idempotency:${key}`;
  }
}
