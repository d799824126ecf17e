-- end-1: ends a session on behalf of its user sessions (the per-user limit, ending all, pruning a stale entry).
-- KEYS[1]  session hash
-- ARGV[1]  user id whose user sessions list it     ARGV[2] the entry's score there
-- ARGV[3]  tombstone lifetime (ms)                     ARGV[4] now (ms since epoch)
--          The score is the session's absolute deadline: a tombstone expires (PEXPIREAT) at
--          min(now + ARGV[3], score), never later than the session it replaces could have lived;
--          none is left once that deadline is past.
-- Effects  missing key            -> a tombstone hash {$dead = "<user id>|<score>"} with that TTL:
--                                    an in-flight create or rotate to this id for that binding
--                                    completes as "ended at once", any other insert is refused
--          live, bound to ARGV[1] -> deleted, replaced by a tombstone
--          live, not (yet) bound  -> marked $ev = "<user id>|<score>": an in-flight update or rotate
--                                    binding it to that user with that score deletes it instead
--          tombstone / foreign    -> untouched
-- Returns  {1, $i or "[]"} a live session bound to the user was ended ($i: JSON array of the index
--                          entries that list it, for the caller to clean), else {0}
local key = KEYS[1]
local now = tonumber(ARGV[4])
local expireAt = now + tonumber(ARGV[3])
local deadline = tonumber(ARGV[2])
if deadline and deadline < expireAt then expireAt = math.floor(deadline) end
local function tombstone()
  if expireAt <= now then return end
  redis.call('HSET', key, '$dead', ARGV[1] .. '|' .. ARGV[2])
  redis.call('PEXPIREAT', key, expireAt)
end
local kind = redis.call('TYPE', key).ok
if kind == 'none' then
  tombstone()
  return {0}
end
if kind ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return {0} end
if redis.call('HGET', key, '$u') == ARGV[1] then
  local memberships = redis.call('HGET', key, '$i') or '[]'
  redis.call('DEL', key)
  tombstone()
  return {1, memberships}
end
redis.call('HSET', key, '$ev', ARGV[1] .. '|' .. ARGV[2])
return {0}
