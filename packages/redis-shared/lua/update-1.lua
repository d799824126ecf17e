-- update-1: update-only, per-field write of one session; all or nothing.
-- KEYS[1]  session hash
-- ARGV[1]  now (ms)             ARGV[2] expiresAt (ms; not after now -> the session is deleted)
-- ARGV[3]  lastSeenAt           ARGV[4] absoluteExpiresAt, or "" to keep it
-- ARGV[5]  user op: "" keep, "-" unbind, "+" bind to ARGV[6]
-- ARGV[6]  user id (bind)       ARGV[7] index score of this binding (eviction marker check)
-- ARGV[8]  expectation "<$a>|<$u>" as read before indexing, or "" for none
-- ARGV[9]  write id of this driver call (see include/writes.lua), or "" for none
-- ARGV[10] nSet  ARGV[11] nRemove  ARGV[12] nIncrement  ARGV[13] nSpecs
-- ARGV[14] maxFields  ARGV[15] maxBytes: limits on the user fields after the write ("" for none;
--          see include/fields.lua), then from ARGV[16]:
--          nSet field/value pairs, nRemove field names, nIncrement field/delta pairs, nSpecs index
--          spec triples (see include/indexes.lua)
-- Effects  the stored expiry and last renewal never move earlier (the later of stored and given is kept);
--          with specs, memberships are recomputed from the stored fields after the write when the
--          write touched an indexed field (or $i is missing), and kept in $i; ARGV[9] joins $w
-- Returns  {1, previousUserId or "", {added, removed, current}, field, value, ...}  written; counters
--                      after the write. added/removed: memberships gained/lost; current: every
--                      membership when the expiry moved (the caller re-scores them), else empty;
--                      expiresAt: the session's expiry after the write (the index score)
--                      ({1, previousUserId, {{}, $i, {}}} when the binding lost to newer logins of
--                      that user, or the expiry passed: the session is deleted)
--          {1, "", {{}, {}, $i, expiresAt}, field, value, ...}  ARGV[9] is already in $w (a re-sent
--                      call): nothing written; the current values of the fields to increment, every
--                      current membership (the caller lists them again, harmless) and no previous user
--          {0}         no live session under KEYS[1] (missing, tombstone, foreign type): nothing written
--          {-1, field} increment of a non-integer value or out of the safe integer range: nothing written
--          {-2}        the expectation no longer holds (concurrent login): nothing written, retry
--          {-4, "fields" or "bytes", value after the write, limit}  the write would grow the
--                      session past ARGV[14] or ARGV[15]: nothing written
-- include: indexes.lua
-- include: expiry.lua
-- include: fields.lua
-- include: writes.lua
local key = KEYS[1]
local now, expiresAt = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('TYPE', key).ok ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return {0} end
local userOp, userId, writeId = ARGV[5], ARGV[6], ARGV[9]
local nSet, nRemove, nIncr, nSpecs = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local setAt = 16
local removeAt = setAt + 2 * nSet
local incrAt = removeAt + nRemove
local specAt = incrAt + 2 * nIncr
local before = storedMemberships(key)
if hasWrite(key, writeId) then
  local reply = {1, '', {{}, {}, before or {}, redis.call('HGET', key, '$x') or ARGV[2]}}
  for j = 0, nIncr - 1 do
    local field = ARGV[incrAt + 2 * j]
    reply[#reply + 1] = field
    reply[#reply + 1] = redis.call('HGET', key, field) or '0'
  end
  return reply
end
local prevUser = redis.call('HGET', key, '$u') or ''
if userOp == '+' and redis.call('HGET', key, '$ev') == userId .. '|' .. ARGV[7] then
  redis.call('DEL', key)
  return {1, prevUser, {{}, before or {}, {}}}
end
if ARGV[8] ~= '' and ((redis.call('HGET', key, '$a') or '') .. '|' .. prevUser) ~= ARGV[8] then return {-2} end

local pending, refused = pendingFields(key, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
if not pending then return {-1, refused} end
local measure, value, limit = overLimit(key, pending, ARGV[14], ARGV[15])
if measure then return {-4, measure, value, limit} end

if expiresAt <= now then
  redis.call('DEL', key)
  return {1, prevUser, {{}, before or {}, {}}}
end
local expiresText = later(key, '$x', ARGV[2])
local seenText = later(key, '$s', ARGV[3])
local moved = redis.call('HGET', key, '$x') ~= expiresText
local counters = applyFields(key, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
redis.call('HSET', key, '$s', seenText, '$x', expiresText)
recordWrite(key, writeId)
if ARGV[4] ~= '' then redis.call('HSET', key, '$a', ARGV[4]) end
if userOp == '+' then
  redis.call('HSET', key, '$u', userId)
  redis.call('HDEL', key, '$ev')
elseif userOp == '-' then
  redis.call('HDEL', key, '$u')
end
redis.call('PEXPIREAT', key, expiresText)

local after = before or {}
if nSpecs > 0 then
  local specs = readSpecs(nSpecs, specAt)
  local written = {}
  for field in pairs(pending) do written[#written + 1] = field end
  if before == nil or touchesIndex(specs, written) then
    after = membershipsOf(key, specs)
    saveMemberships(key, after)
  end
end
local reply = {1, prevUser, {without(after, before or {}), without(before or {}, after), moved and after or {}, expiresText}}
for j = 1, #counters do reply[#reply + 1] = counters[j] end
return reply
