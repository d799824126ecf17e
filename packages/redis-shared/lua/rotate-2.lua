-- rotate-2: atomic move of a session to a new id with a change applied; all or nothing.
-- KEYS[1]  old session hash    KEYS[2] new session hash (same hash tag, so same cluster slot)
-- ARGV[1..12] as update-1 (now, expiresAt, lastSeenAt, absoluteExpiresAt|"", user op, user id,
--             binding score, expectation, write id, nSet, nRemove, nIncrement)
-- ARGV[13] keepData: "1" moves the user fields, "0" keeps only the metadata
-- ARGV[14] nSpecs
-- ARGV[15] maxFields  ARGV[16] maxBytes: as update-1 (of the data under KEYS[2] after the write)
-- from ARGV[17]: nSet field/value pairs, nRemove field names, nIncrement field/delta pairs, nSpecs
--          index spec triples (see include/indexes.lua)
-- Effects  the expiry and last renewal never move earlier (the later of stored and given is kept);
--          the memberships ($i) move with the session; with specs they are recomputed from the
--          stored fields when the write touched an indexed field, dropped the data or $i is missing;
--          the write ids ($w) move with the session and ARGV[9] joins them
-- Returns  {1, previousUserId or "", {{}, old, new, expiresAt}, field, value, ...}  rotated: KEYS[1] no longer
--                      exists; old: the memberships of KEYS[1] (the caller unlists the old id),
--                      new: those of KEYS[2] (the caller lists the new id)
--          {0}         no live session under KEYS[1]: nothing written
--          {-1, field} increment of a non-integer value: nothing written
--          {-2}        the expectation no longer holds: nothing written, retry
--          {-3}        something already exists under KEYS[2]: nothing written
--          {-4, measure, value, limit}  as update-1: nothing written
--          {1, previousUserId, {{}, old, {}}} when the binding lost to newer logins of that user (a
--                      tombstone for this binding under KEYS[2], or the $ev marker) or the expiry
--                      passed: KEYS[1] is deleted
--          {1, userId or "", {{}, $i, $i, expiresAt}, field, value, ...}  no live session under KEYS[1]
--                      and ARGV[9] is in the $w of KEYS[2] (a re-sent call that already rotated):
--                      nothing written; KEYS[2]'s user, memberships (old and new: the caller unlists
--                      the old id and lists the new one again, harmless), expiry and the current
--                      values of the fields to increment
-- include: indexes.lua
-- include: expiry.lua
-- include: fields.lua
-- include: writes.lua
local from, to = KEYS[1], KEYS[2]
local now, expiresAt = tonumber(ARGV[1]), tonumber(ARGV[2])
local userOp, userId, writeId = ARGV[5], ARGV[6], ARGV[9]
local binding = userId .. '|' .. ARGV[7]
local nSet, nRemove, nIncr, nSpecs = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[14])
local setAt = 17
local removeAt = setAt + 2 * nSet
local incrAt = removeAt + nRemove
local specAt = incrAt + 2 * nIncr
local fromLive = redis.call('TYPE', from).ok == 'hash' and redis.call('HEXISTS', from, '$c') == 1
if not fromLive and redis.call('TYPE', to).ok == 'hash' and hasWrite(to, writeId) then
  local current = storedMemberships(to) or {}
  local reply = {1, redis.call('HGET', to, '$u') or '', {{}, current, current, redis.call('HGET', to, '$x') or ARGV[2]}}
  for j = 0, nIncr - 1 do
    local field = ARGV[incrAt + 2 * j]
    reply[#reply + 1] = field
    reply[#reply + 1] = redis.call('HGET', to, field) or '0'
  end
  return reply
end
local endedByLogin = false
if redis.call('EXISTS', to) == 1 then
  if ARGV[7] == '' or redis.call('TYPE', to).ok ~= 'hash' or redis.call('HGET', to, '$dead') ~= binding then return {-3} end
  endedByLogin = true
end
if not fromLive then return {0} end
local prevUser = redis.call('HGET', from, '$u') or ''
local before = storedMemberships(from)
if endedByLogin or (userOp == '+' and redis.call('HGET', from, '$ev') == binding) then
  redis.call('DEL', from)
  return {1, prevUser, {{}, before or {}, {}}}
end
if ARGV[8] ~= '' and ((redis.call('HGET', from, '$a') or '') .. '|' .. prevUser) ~= ARGV[8] then return {-2} end
local keepData = ARGV[13] == '1'

local pending, refused = pendingFields(keepData and from or nil, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
if not pending then return {-1, refused} end
local measure, value, limit = overLimit(keepData and from or nil, pending, ARGV[15], ARGV[16])
if measure then return {-4, measure, value, limit} end

if expiresAt <= now then
  redis.call('DEL', from)
  return {1, prevUser, {{}, before or {}, {}}}
end
if keepData then
  redis.call('RENAME', from, to)
  redis.call('HDEL', to, '$ev')
else
  local all = redis.call('HGETALL', from)
  redis.call('DEL', from)
  for j = 1, #all, 2 do
    local name = all[j]
    if string.sub(name, 1, 1) == '$' and name ~= '$ev' then redis.call('HSET', to, name, all[j + 1]) end
  end
end
local counters = applyFields(to, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
local expiresText = later(to, '$x', ARGV[2])
redis.call('HSET', to, '$s', later(to, '$s', ARGV[3]), '$x', expiresText)
recordWrite(to, writeId)
if ARGV[4] ~= '' then redis.call('HSET', to, '$a', ARGV[4]) end
if userOp == '+' then
  redis.call('HSET', to, '$u', userId)
elseif userOp == '-' then
  redis.call('HDEL', to, '$u')
end
redis.call('PEXPIREAT', to, expiresText)

local after = before or {}
if nSpecs > 0 then
  local specs = readSpecs(nSpecs, specAt)
  local written = {}
  for field in pairs(pending) do written[#written + 1] = field end
  if before == nil or not keepData or touchesIndex(specs, written) then
    after = membershipsOf(to, specs)
    saveMemberships(to, after)
  end
end
local reply = {1, prevUser, {{}, before or {}, after, expiresText}}
for j = 1, #counters do reply[#reply + 1] = counters[j] end
return reply
