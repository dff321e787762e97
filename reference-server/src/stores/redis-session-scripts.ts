import { EVENT_LUA } from './redis-event-scripts.js';
import { RedisScript } from './redis-script.js';

/**
 * Lua scripts of RedisSessionStore. Every script takes ARGV[1] = key prefix, ARGV[2] = now
 * (epoch ms, the server's clock), ARGV[3] = retention (ms), ARGV[4] = event context (JSON, see
 * redis-event-scripts.ts), then its own arguments. Key names
 * are derived from the prefix inside the scripts because the indexes a script touches depend on
 * stored values (a file's status, its session); this is why the store needs one Redis (with
 * replicas or Sentinel), not Redis Cluster. Layout and expiry: docs/decisions/0008.
 *
 * Invariant kept by every script: a file's score in its status index equals the time its record
 * expires ('+inf' while it has no expiry), so index and record disappear together.
 */
const PRELUDE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local RETENTION = tonumber(ARGV[3])
local READY = P .. 'ready'
local EXPIRING = P .. 'expiring'
local function fileKey(id) return P .. 'file:' .. id end
local function sessionKey(id) return P .. 'session:' .. id end
local function filesKey(id) return P .. 'session:' .. id .. ':files' end
local function digestsKey(id) return P .. 'digests:' .. id end
local function statusKey(status) return P .. 'status:' .. status end
local function int(n) return string.format('%.0f', n) end

-- Ready files by (user, content hash, size), oldest first: one sorted set ranged by prefix.
local function indexReady(fk, id)
  local f = redis.call('HMGET', fk, 'userId', 'contentHash', 'size', 'createdAt')
  if not f[2] then return end
  local created = f[4]
  local member = redis.sha1hex(f[1] .. '\\0' .. f[2] .. '\\0' .. f[3]) .. ':'
    .. string.rep('0', 15 - #created) .. created .. ':' .. id
  redis.call('ZADD', READY, 0, member)
  redis.call('HSET', fk, '_ready', member)
end

local function unindexReady(fk)
  local member = redis.call('HGET', fk, '_ready')
  if member then
    redis.call('ZREM', READY, member)
    redis.call('HDEL', fk, '_ready')
  end
end

-- Index entries of records that expired by TTL are dropped lazily, on the next write.
local function trim(status)
  redis.call('ZREMRANGEBYSCORE', statusKey(status), '-inf', '(' .. int(NOW))
end

-- After cleanup a session lives while one of its files is ready, then until expireAt.
local function settleSession(sid, expireAt)
  local sk, lk = sessionKey(sid), filesKey(sid)
  if redis.call('HEXISTS', sk, 'cleanedAt') == 0 then return end
  for _, fid in ipairs(redis.call('LRANGE', lk, 0, -1)) do
    if redis.call('HGET', fileKey(fid), 'status') == 'ready' then
      redis.call('PERSIST', sk)
      redis.call('PERSIST', lk)
      return
    end
  end
  redis.call('PEXPIREAT', sk, int(expireAt))
  redis.call('PEXPIREAT', lk, int(expireAt))
end

-- A cleaned session keeps its files that did not end ready for RETENTION after cleanup.
local function applyCleanup(sid, at)
  local keep = at + RETENTION
  for _, fid in ipairs(redis.call('LRANGE', filesKey(sid), 0, -1)) do
    local fk = fileKey(fid)
    local status = redis.call('HGET', fk, 'status')
    if status and status ~= 'ready' then
      redis.call('PEXPIREAT', fk, int(keep))
      redis.call('ZADD', statusKey(status), int(keep), fid)
      trim(status)
    end
  end
  settleSession(sid, keep)
end

-- Reads a counted list of ARGV values starting at i; returns the list and the next index.
local function list(i)
  local n = tonumber(ARGV[i])
  local out = {}
  for j = 1, n do out[j] = ARGV[i + j] end
  return out, i + n + 1
end
`;

const script = (body: string) => new RedisScript(PRELUDE + EVENT_LUA + body);

/** ARGV: sid, expiresAt, cleanedAt|'', n, session field/value..., nFiles, (fid, n, pairs...)... */
export const CREATE_SESSION = script(`
local sid, expiresAt, cleanedAt = ARGV[5], ARGV[6], ARGV[7]
local sessionFields, i = list(8)
local files = {}
local nFiles = tonumber(ARGV[i])
i = i + 1
for f = 1, nFiles do
  local id = ARGV[i]
  local fields, after = list(i + 1)
  files[f] = { id = id, fields = fields }
  i = after
end
if redis.call('EXISTS', sessionKey(sid)) == 1 then
  return redis.error_reply('EXISTS session ' .. sid)
end
local seen = {}
for _, f in ipairs(files) do
  if seen[f.id] or redis.call('EXISTS', fileKey(f.id)) == 1 then
    return redis.error_reply('EXISTS file ' .. f.id)
  end
  seen[f.id] = true
end
redis.call('HSET', sessionKey(sid), unpack(sessionFields))
for _, f in ipairs(files) do
  local fk = fileKey(f.id)
  redis.call('HSET', fk, unpack(f.fields))
  redis.call('RPUSH', filesKey(sid), f.id)
  local status = redis.call('HGET', fk, 'status')
  redis.call('ZADD', statusKey(status), '+inf', f.id)
  if status == 'ready' then indexReady(fk, f.id) end
end
if cleanedAt == '' then
  redis.call('ZADD', EXPIRING, expiresAt, sid)
else
  applyCleanup(sid, tonumber(cleanedAt))
end
appendEvents()
completeSession(sid)
return 1
`);

/** ARGV: fid, updatedAt, nFrom, from..., nSet, field/value..., nDel, field... */
export const TRANSITION_FILE = script(`
local fid, updatedAt = ARGV[5], ARGV[6]
local fk = fileKey(fid)
local from, i = list(7)
local set, j = list(i)
local del = list(j)
local status = redis.call('HGET', fk, 'status')
if not status then return false end
local allowed = false
for _, s in ipairs(from) do
  if s == status then allowed = true end
end
if not allowed then return false end

unindexReady(fk)
redis.call('ZREM', statusKey(status), fid)
if #del > 0 then redis.call('HDEL', fk, unpack(del)) end
redis.call('HSET', fk, 'updatedAt', updatedAt, unpack(set))
local current = redis.call('HGET', fk, 'status')
local sid = redis.call('HGET', fk, 'sessionId')
local score = '+inf'
if current == 'ready' then
  -- Ready files (and the session they belong to) are kept until deleted.
  redis.call('PERSIST', fk)
  redis.call('PERSIST', sessionKey(sid))
  redis.call('PERSIST', filesKey(sid))
  indexReady(fk, fid)
elseif redis.call('HEXISTS', sessionKey(sid), 'cleanedAt') == 1 then
  local ttl = redis.call('PTTL', fk)
  if ttl < 0 then
    -- It left 'ready' after cleanup: retention starts now.
    redis.call('PEXPIREAT', fk, int(NOW + RETENTION))
    score = int(NOW + RETENTION)
    settleSession(sid, NOW + RETENTION)
  else
    score = int(NOW + ttl)
  end
end
redis.call('ZADD', statusKey(current), score, fid)
trim(status)
trim(current)
appendEvents()
if isFinal(current) then completeSession(sid) end
return redis.call('HGETALL', fk)
`);

/** ARGV: fid. Returns the file's session id when the file existed, else 0. */
export const DELETE_FILE = script(`
local fid = ARGV[5]
local fk = fileKey(fid)
local f = redis.call('HMGET', fk, 'status', 'sessionId')
if not f[1] then return 0 end
unindexReady(fk)
redis.call('ZREM', statusKey(f[1]), fid)
redis.call('DEL', fk, digestsKey(fid))
redis.call('LREM', filesKey(f[2]), 0, fid)
settleSession(f[2], NOW + RETENTION)
appendEvents()
completeSession(f[2])
return f[2]
`);

/** ARGV: fid, index, digest (hex). Digests expire with their session. */
export const RECORD_DIGEST = script(`
local fid = ARGV[5]
local sid = redis.call('HGET', fileKey(fid), 'sessionId')
if not sid then return 0 end
local dk = digestsKey(fid)
redis.call('HSET', dk, ARGV[6], ARGV[7])
local expiresAt = redis.call('HGET', sessionKey(sid), 'expiresAt')
if expiresAt then redis.call('PEXPIREAT', dk, expiresAt) end
return 1
`);

/** ARGV: sid, at. */
export const MARK_CLEANED = script(`
local sid, at = ARGV[5], ARGV[6]
if redis.call('EXISTS', sessionKey(sid)) == 0 then return 0 end
redis.call('HSET', sessionKey(sid), 'cleanedAt', at)
redis.call('ZREM', EXPIRING, sid)
applyCleanup(sid, tonumber(at))
return 1
`);

/** ARGV: sid. Returns the field/value lists of the session's files, in creation order. */
export const LIST_FILES = script(`
local out = {}
for _, fid in ipairs(redis.call('LRANGE', filesKey(ARGV[5]), 0, -1)) do
  local fields = redis.call('HGETALL', fileKey(fid))
  if #fields > 0 then out[#out + 1] = fields end
end
return out
`);

/** ARGV: until, limit. Returns field/value lists of uncleaned sessions expired by then. */
export const LIST_EXPIRED = script(`
local out = {}
local ids = redis.call('ZRANGE', EXPIRING, '-inf', ARGV[5], 'BYSCORE', 'LIMIT', 0, ARGV[6])
for _, sid in ipairs(ids) do
  local fields = redis.call('HGETALL', sessionKey(sid))
  if #fields > 0 then out[#out + 1] = fields else redis.call('ZREM', EXPIRING, sid) end
end
return out
`);

/** ARGV: limit, nStatuses, status... Returns field/value lists of files in those statuses. */
export const LIST_BY_STATUS = script(`
local limit = tonumber(ARGV[5])
local statuses = list(6)
local out = {}
for _, status in ipairs(statuses) do
  if #out >= limit then break end
  trim(status)
  local ids = redis.call('ZRANGE', statusKey(status), int(NOW), '+inf', 'BYSCORE',
    'LIMIT', 0, limit - #out)
  for _, fid in ipairs(ids) do
    local fields = redis.call('HGETALL', fileKey(fid))
    if #fields > 0 then out[#out + 1] = fields end
  end
end
return out
`);
