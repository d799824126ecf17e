-- update-1: update-only, per-field write of one session; all or nothing.
-- KEYS[1]  session hash
-- ARGV     the layout shared with rotate-2, described in include/change.lua (ARGV[12] keepData is "1")
-- Effects  the stored expiry and last renewal never move earlier (the later of stored and given is kept;
--          a change with a new lifetime sets its expiry, see include/change.lua);
--          with specs, memberships are recomputed from the stored fields after the write when the
--          write touched an indexed field (or $i is missing), and kept in $i; the write id joins $w
--          with ARGV[19], the user-sessions, index and limit steps run here (see include/change.lua);
--          the hash is read once (HMGET of the metadata and the fields the write touches; with limits,
--          a write that grows the session also reads the whole hash, HGETALL, for the totals) and
--          written once (one HSET, one HDEL, and PEXPIREAT when the expiry moved)
-- Returns  {1, ...} as the flat reply in include/change.lua:
--            written: added/removed: memberships gained/lost; current: every membership when the
--                      expiry moved (re-scored), else none; the times kept; the ids the inline
--                      steps ended; the counters after the write
--            deleted (the binding lost to newer logins of that user, or the expiry passed):
--                      previousUserId, removed: $i; no times, nothing else
--            re-sent (the write id is already in $w): nothing written; previousUserId "",
--                      current: $i with expiresAt; the times and counters as stored
--          {0}         no live session under KEYS[1] (missing, tombstone, foreign type, or its $x not
--                      after ARGV[1]): nothing written
--          {-1, field} increment of a non-integer value or out of the safe integer range: nothing written
--          {-2}        the expectation no longer holds (concurrent login): nothing written, retry
--          {-4, "fields" or "bytes", value after the write, limit}  the write would grow the
--                      session past maxFields or maxBytes: nothing written
-- include: indexes.lua
-- include: expiry.lua
-- include: fields.lua
-- include: writes.lua
-- include: steps.lua
-- include: batches.lua
-- include: change.lua
readChange()
local key = KEYS[1]
local stored, storedExpiry = liveFields(key, false)
if not stored then return {0} end
local before = membershipsIn(stored['$i'])
if listHasWrite(stored['$w'], writeId) then return resentReply(key, '', {}, before or {}) end
local prevUser = stored['$u'] or ''
if userOp == '+' and stored['$ev'] == binding then
  redis.call('DEL', key)
  return deletedReply(key, key, prevUser, before)
end
if expectationFails(stored, prevUser) then return {-2} end

local verdict, pending = judged(stored, key, key, prevUser, before)
if verdict then return verdict end
local endedOthers = enlistInline(key, key, prevUser)
local expiresText, moved, times = writeChange(key, stored, storedExpiry, pending, true)
local after = membershipsAfter(key, before, pending, false)
local old = before or {}
return writtenReply(key, key, prevUser, {without(after, old), without(old, after), moved and after or {}, expiresText}, times, countersOf(pending, nIncr, incrAt), endedOthers)
