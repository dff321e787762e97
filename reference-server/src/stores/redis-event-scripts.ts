import { RedisScript } from './redis-script.js';

/**
 * The event outbox of RedisSessionStore, in Lua, so that events are appended in the same atomic
 * step as the change they report. `seq` is a counter (INCR), so it orders the whole stream and
 * reads the same as the embedded store's. Keys under `<prefix>events:`:
 *
 * - `seq`               the counter
 * - `bodies`            hash seq -> event JSON (without seq)
 * - `all`               sorted set of seqs (score = seq)
 * - `session:<id>`      sorted set of one session's seqs
 * - `time`              sorted set `<seq>:<sessionId>` by occurredAt (ms), for pruning
 * - `ids`               sorted set of event ids by occurredAt: appending a known id adds nothing
 *
 * Included in the prelude of the session scripts; expects P, NOW and `int` defined there, and
 * the event context (JSON, built by RedisSessionStore) in ARGV[4].
 */
export const EVENT_LUA = `
local EV = P .. 'events:'
local CTX = cjson.decode(ARGV[4])
local FINAL = {}
for _, s in ipairs(CTX.final or {}) do FINAL[s] = true end
local function isFinal(status) return FINAL[status] == true end

local function appendEvent(id, sid, occurred, body)
  if redis.call('ZSCORE', EV .. 'ids', id) then return end
  redis.call('ZADD', EV .. 'ids', int(occurred), id)
  local seq = int(redis.call('INCR', EV .. 'seq'))
  redis.call('HSET', EV .. 'bodies', seq, body)
  redis.call('ZADD', EV .. 'all', seq, seq)
  redis.call('ZADD', EV .. 'session:' .. sid, seq, seq)
  redis.call('ZADD', EV .. 'time', int(occurred), seq .. ':' .. sid)
end

local function appendEvents()
  for _, e in ipairs(CTX.events or {}) do appendEvent(e.id, e.sessionId, e.occurredMs, e.body) end
end

-- session.completed once every remaining file of the session has ended: the outcome of each
-- file as session-events.ts fileOutcome() writes it.
local function completeSession(sid)
  local userId = redis.call('HGET', sessionKey(sid), 'userId')
  if not userId then return end
  local parts = {}
  for _, fid in ipairs(redis.call('LRANGE', filesKey(sid), 0, -1)) do
    local f = redis.call('HMGET', fileKey(fid),
      'id', 'name', 'size', 'status', 'error', 'contentHash', 'fileType')
    if f[1] then
      if not isFinal(f[4]) then return end
      local json = '{"fileId":' .. cjson.encode(f[1]) .. ',"name":' .. cjson.encode(f[2])
        .. ',"size":' .. f[3] .. ',"status":' .. cjson.encode(f[4])
      if f[5] then json = json .. ',"error":' .. f[5] end
      if f[6] then json = json .. ',"contentHash":' .. cjson.encode(f[6]) end
      if f[7] then json = json .. ',"fileType":' .. cjson.encode(f[7]) end
      parts[#parts + 1] = json .. '}'
    end
  end
  local id = CTX.completedPrefix .. sid
  local body = '{"id":' .. cjson.encode(id) .. ',"type":' .. cjson.encode(CTX.completedType)
    .. ',"version":' .. CTX.version .. ',"occurredAt":' .. cjson.encode(CTX.occurredAt)
    .. ',"sessionId":' .. cjson.encode(sid) .. ',"userId":' .. cjson.encode(userId)
    .. ',"data":{"files":[' .. table.concat(parts, ',') .. ']}}'
  appendEvent(id, sid, CTX.occurredMs, body)
end
`;

/** Standalone scripts take ARGV[1] = prefix, then their own arguments. */
const PRELUDE = `
local EV = ARGV[1] .. 'events:'
`;

/** ARGV: sessionId|'', after, limit. Returns seq, body, seq, body, ... */
export const READ_EVENTS = new RedisScript(`${PRELUDE}
local index = ARGV[2] == '' and EV .. 'all' or EV .. 'session:' .. ARGV[2]
local seqs = redis.call('ZRANGE', index, '(' .. ARGV[3], '+inf', 'BYSCORE', 'LIMIT', 0, ARGV[4])
local out = {}
for _, seq in ipairs(seqs) do
  local body = redis.call('HGET', EV .. 'bodies', seq)
  if body then
    out[#out + 1] = seq
    out[#out + 1] = body
  end
end
return out
`);

/** ARGV: time (ms), batch. Removes up to `batch` events that occurred before time. */
export const PRUNE_EVENTS = new RedisScript(`${PRELUDE}
local members = redis.call('ZRANGE', EV .. 'time', '-inf', '(' .. ARGV[2], 'BYSCORE',
  'LIMIT', 0, ARGV[3])
for _, member in ipairs(members) do
  local at = string.find(member, ':', 1, true)
  local seq, sid = string.sub(member, 1, at - 1), string.sub(member, at + 1)
  redis.call('HDEL', EV .. 'bodies', seq)
  redis.call('ZREM', EV .. 'all', seq)
  redis.call('ZREM', EV .. 'session:' .. sid, seq)
  redis.call('ZREM', EV .. 'time', member)
end
redis.call('ZREMRANGEBYSCORE', EV .. 'ids', '-inf', '(' .. ARGV[2])
return #members
`);
