import type { RedisConnection } from '../bus/redis-connection';
import type { Clock } from '../common/clock';
import type { PresenceMember } from './presence-member';
import { PresenceStore, type LocalMembers } from './presence-store';

/** KEYS: members hash, expiry zset. ARGV: client, member JSON, lease end (ms), key TTL (ms). */
const ADD = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])`;

/** KEYS as ADD. ARGV: client. The channel's keys go with its last member. */
const REMOVE = `redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end`;

/**
 * KEYS as ADD. ARGV: now, lease end, key TTL, then this instance's members as client, member
 * JSON pairs. Writes them with new leases (which also restores members whose join was lost to
 * a Redis outage), then removes the members whose lease ran out and returns them: atomic, so
 * each expired member is returned to exactly one instance.
 */
const REFRESH = `for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[i])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local gone = {}
for _, client in ipairs(expired) do
  local member = redis.call('HGET', KEYS[1], client)
  if member then table.insert(gone, member) end
  redis.call('HDEL', KEYS[1], client)
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return gone`;

export interface RedisPresenceOptions {
  /** REDIS_PREFIX: keys are `<prefix>presence:{channel:<name>}:members` and `…:expiry`. */
  readonly prefix: string;
  /** How long a member outlives its instance's last refresh. */
  readonly leaseMs: number;
}

/**
 * Presence shared by the instances (centrifuge's Redis presence: a hash of members and a sorted
 * set of lease ends). One EVAL per join, leave, and per channel per refresh. The `{channel:…}`
 * hash tag keeps a channel's keys in one Redis Cluster slot.
 */
export class RedisPresenceStore extends PresenceStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly clock: Clock,
    private readonly options: RedisPresenceOptions,
  ) {
    super();
  }

  async add(channel: string, member: PresenceMember): Promise<void> {
    const leaseEnd = this.clock.now() + this.options.leaseMs;
    await this.redis.eval(
      ADD,
      2,
      ...this.keysOf(channel),
      member.client,
      JSON.stringify(member),
      leaseEnd,
      this.keyTtlMs,
    );
  }

  async remove(channel: string, member: PresenceMember): Promise<void> {
    await this.redis.eval(REMOVE, 2, ...this.keysOf(channel), member.client);
  }

  async list(channel: string): Promise<PresenceMember[]> {
    const values = (await this.redis.eval(
      "return redis.call('HVALS', KEYS[1])",
      1,
      this.keysOf(channel)[0],
    )) as string[];
    return values.map((value) => JSON.parse(value) as PresenceMember);
  }

  async refresh(local: readonly LocalMembers[]): Promise<Map<string, PresenceMember[]>> {
    const now = this.clock.now();
    const leaseEnd = now + this.options.leaseMs;
    // Written back to back: ioredis sends them as one pipeline.
    const replies = await Promise.all(
      local.map(({ channel, members }) =>
        this.redis.eval(
          REFRESH,
          2,
          ...this.keysOf(channel),
          now,
          leaseEnd,
          this.keyTtlMs,
          ...members.flatMap((member) => [member.client, JSON.stringify(member)]),
        ),
      ),
    );
    const expired = new Map<string, PresenceMember[]>();
    replies.forEach((reply, i) => {
      const gone = (reply as string[]).map((value) => JSON.parse(value) as PresenceMember);
      if (gone.length > 0) expired.set(local[i].channel, gone);
    });
    return expired;
  }

  /** The keys themselves expire well after every lease: a safety net, not the mechanism. */
  private get keyTtlMs(): number {
    return this.options.leaseMs * 3;
  }

  private keysOf(channel: string): [string, string] {
    const base = `${this.options.prefix}presence:{channel:${channel}}`;
    return [`${base}:members`, `${base}:expiry`];
  }
}
