-- rotate-2: atomic move of a session to a new id with a change applied; all or nothing.
-- KEYS[1]  old session hash    KEYS[2] new session hash (same hash tag, so same cluster slot)
-- ARGV     the layout shared with update-1, described in include/change.lua (ARGV[12] keepData:
--          "1" moves the user fields, "0" keeps only the metadata; limits judge the data under KEYS[2])
-- Effects  the expiry and last renewal never move earlier (the later of stored and given is kept;
--          a change with a new lifetime sets its expiry, see include/change.lua);
--          the metadata ($c, $t, $u, $ua, $ip...) moves with the session; the memberships ($i) too,
--          recomputed from the stored fields when the write touched an indexed field, dropped the
--          data or $i is missing; the write ids ($w) move with the session and this call's joins them;
--          with ARGV[19], the user-sessions, index and limit steps run here (see include/change.lua)
-- Returns  {1, ...} as the flat reply in include/change.lua:
--            rotated: KEYS[1] no longer exists; removed: the memberships of KEYS[1] (the old id
--                      leaves them), current: those of KEYS[2] (the new id is listed), with
--                      expiresAt; the times kept; the ids the inline steps ended; the counters
--          {0}         no live session under KEYS[1] (as update-1): nothing written
--          {-1, field} increment of a non-integer value: nothing written
--          {-2}        the expectation no longer holds: nothing written, retry
--          {-3}        something already exists under KEYS[2]: nothing written
--          {-4, measure, value, limit}  as update-1: nothing written
--          {1, ...}    deleted: the binding lost to newer logins of that user (a tombstone for this
--                      binding under KEYS[2], or the $ev marker) or the expiry passed: KEYS[1] is
--                      deleted; previousUserId, removed: the old memberships; no times
--          {1, ...}    re-sent: no live session under KEYS[1] and the write id is in the $w of KEYS[2]
--                      (a call that already rotated): nothing written; KEYS[2]'s user, removed and
--                      current: its memberships (the caller unlists the old id and lists the new one
--                      again, harmless), with expiresAt; its times and counters
-- include: indexes.lua
-- include: expiry.lua
-- include: fields.lua
-- include: writes.lua
-- include: steps.lua
-- include: batches.lua
-- include: change.lua
readChange()
local from, to = KEYS[1], KEYS[2]
local stored, storedExpiry = liveFields(from, not keepData)
if not stored and redis.call('TYPE', to).ok == 'hash' and hasWrite(to, writeId) then
  local current = storedMemberships(to) or {}
  return resentReply(to, redis.call('HGET', to, '$u') or '', current, current)
end
local endedByLogin = false
if redis.call('EXISTS', to) == 1 then
  if ARGV[8] == '' or redis.call('TYPE', to).ok ~= 'hash' or redis.call('HGET', to, '$dead') ~= binding then return {-3} end
  endedByLogin = true
end
if not stored then return {0} end
local prevUser = stored['$u'] or ''
local before = membershipsIn(stored['$i'])
if endedByLogin or (userOp == '+' and stored['$ev'] == binding) then
  redis.call('DEL', from)
  return deletedReply(from, to, prevUser, before)
end
if expectationFails(stored, prevUser) then return {-2} end

local verdict, pending = judged(keepData and stored or nil, from, to, prevUser, before)
if verdict then return verdict end
local endedOthers = enlistInline(from, to, prevUser)
if keepData then
  redis.call('RENAME', from, to)
  redis.call('HDEL', to, '$ev')
else
  redis.call('DEL', from)
  local metadata = {}
  for name, text in pairs(stored) do
    if string.sub(name, 1, 1) == '$' and name ~= '$ev' then
      metadata[#metadata + 1] = name
      metadata[#metadata + 1] = text
    end
  end
  callInBatches('HSET', to, metadata)
end
local expiresText, _, times = writeChange(to, stored, storedExpiry, pending, false)
local after = membershipsAfter(to, before, pending, not keepData)
return writtenReply(from, to, prevUser, {{}, before or {}, after, expiresText}, times, countersOf(pending, nIncr, incrAt), endedOthers)
