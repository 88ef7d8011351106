import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis channel history. Both keys of a channel share the hash tag
 * `{<topic>}`, so each script touches one Redis Cluster slot.
 *
 * KEYS[1] the stream (XADD id = offset, field `d` = the signed bus frame), KEYS[2] the meta hash
 * (`e` epoch, `s` last offset). When the meta hash is missing (never written, expired, evicted,
 * lost in a restart without persistence) the caller's fresh epoch is taken and any stream left
 * over is deleted: an offset is never reused within an epoch.
 */
export interface HistoryScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): HistoryScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * One publication, atomically (centrifuge's broker_history_add_stream.lua): next offset, XADD
 * with MAXLEN, EXPIRE both keys, PUBLISH `#<epoch>:<offset>:<frame>`.
 * ARGV: frame, size, ttl seconds, channel, fresh epoch. Returns {epoch, offset}.
 */
export const ADD_SCRIPT = script(`
local stream, meta = KEYS[1], KEYS[2]
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('del', stream)
  redis.call('hset', meta, 'e', epoch)
end
local offset = redis.call('hincrby', meta, 's', 1)
redis.call('xadd', stream, 'MAXLEN', ARGV[2], offset, 'd', ARGV[1])
redis.call('expire', stream, ARGV[3])
redis.call('expire', meta, ARGV[3])
redis.call('publish', ARGV[4], '#' .. epoch .. ':' .. offset .. ':' .. ARGV[1])
return {epoch, offset}
`);

/**
 * The position and, when ARGV[3] is not empty, the entries from offset ARGV[3] on (XRANGE).
 * ARGV: fresh epoch, ttl seconds, first offset wanted. Returns {epoch, offset, entries}.
 */
export const READ_SCRIPT = script(`
local stream, meta = KEYS[1], KEYS[2]
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('del', stream)
  redis.call('hset', meta, 'e', epoch, 's', 0)
  redis.call('expire', meta, ARGV[2])
end
local offset = tonumber(redis.call('hget', meta, 's') or '0')
local entries = {}
if ARGV[3] ~= '' then entries = redis.call('xrange', stream, ARGV[3], '+') end
return {epoch, offset, entries}
`);
