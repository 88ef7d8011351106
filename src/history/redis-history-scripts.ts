import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis channel history. Both keys of a channel share the hash tag
 * `{<topic>}`, so each script touches one Redis Cluster slot.
 *
 * KEYS[1] the stream (XADD id = offset, field `d` = the signed bus frame), KEYS[2] the meta hash
 * (`e` epoch, `s` last offset, `r` the replication id of the primary that wrote them). The
 * caller's fresh epoch is taken, and the stream and offset start over, when the meta hash is
 * missing (never written, expired, evicted, lost in a restart without persistence) or was
 * written under another replication id: a replica was promoted (a failover) or the server
 * restarted, so the publications it acknowledged last may never have reached this copy. An
 * offset is therefore never reused for different data within an epoch.
 *
 * Why not WAIT for the replica instead: WAIT blocks the connection it is sent on, which the bus
 * shares (multiplexed) for every publication to that node; it costs a replica round trip per
 * publication; and the script's PUBLISH has delivered the frame before any WAIT could answer.
 * The replication-id check costs one INFO replication per script run (docs/scaling.md has the
 * measured figure).
 */
export interface HistoryScript {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): HistoryScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * The replication id of the server running the script (a primary: scripts never run on a
 * replica here), and `epoch`: the meta hash's epoch when it was written under that id, else
 * false. Shared by both scripts. A server that refuses INFO to scripts (an ACL without +info)
 * yields '' every time: history works, without the failover check.
 */
const CURRENT_EPOCH = `
local info = redis.pcall('info', 'replication')
local replid = type(info) == 'string' and string.match(info, 'master_replid:(%w+)') or ''
local epoch = redis.call('hget', meta, 'e')
if epoch and redis.call('hget', meta, 'r') ~= replid then
  epoch = false
end
`;

/**
 * One publication, atomically (centrifuge's broker_history_add_stream.lua): next offset, XADD
 * with MAXLEN, EXPIRE both keys, PUBLISH (SPUBLISH on a cluster) `#<epoch>:<offset>:<frame>`.
 * ARGV: frame, size, ttl seconds, channel, fresh epoch. Returns {epoch, offset}.
 */
function addScript(publish: 'publish' | 'spublish'): HistoryScript {
  return script(`
local stream, meta = KEYS[1], KEYS[2]
${CURRENT_EPOCH}
if not epoch then
  epoch = ARGV[5]
  redis.call('del', stream, meta)
  redis.call('hset', meta, 'e', epoch, 'r', replid)
end
local offset = redis.call('hincrby', meta, 's', 1)
redis.call('xadd', stream, 'MAXLEN', ARGV[2], offset, 'd', ARGV[1])
redis.call('expire', stream, ARGV[3])
redis.call('expire', meta, ARGV[3])
redis.call('${publish}', ARGV[4], '#' .. epoch .. ':' .. offset .. ':' .. ARGV[1])
return {epoch, offset}
`);
}

/** On one Redis: PUBLISH to the topic's channel. */
export const ADD_SCRIPT = addScript('publish');
/**
 * On a Redis Cluster: SPUBLISH to the topic's channel `<prefix>{<topic>}`, which shares the
 * keys' hash tag, so the script stays in one slot.
 */
export const SHARDED_ADD_SCRIPT = addScript('spublish');

/**
 * The position and, when ARGV[3] is not empty, the entries from offset ARGV[3] on (XRANGE).
 * ARGV: fresh epoch, ttl seconds, first offset wanted. Returns {epoch, offset, entries}.
 */
export const READ_SCRIPT = script(`
local stream, meta = KEYS[1], KEYS[2]
${CURRENT_EPOCH}
if not epoch then
  epoch = ARGV[1]
  redis.call('del', stream, meta)
  redis.call('hset', meta, 'e', epoch, 's', 0, 'r', replid)
  redis.call('expire', meta, ARGV[2])
end
local offset = tonumber(redis.call('hget', meta, 's') or '0')
local entries = {}
if ARGV[3] ~= '' then entries = redis.call('xrange', stream, ARGV[3], '+') end
return {epoch, offset, entries}
`);
