-- kill-1: ends a session on behalf of its user index (eviction, end-all, pruning a stale entry).
-- KEYS[1]  session hash
-- ARGV[1]  user id whose index holds the session     ARGV[2] the entry's score in that index
-- ARGV[3]  tombstone lifetime (ms)
-- Effects  missing key            -> a tombstone hash {$dead = "<user id>|<score>"} with a TTL of ARGV[3]:
--                                    an in-flight create or rotate to this id for that binding
--                                    completes as "ended at once", any other insert is refused
--          live, bound to ARGV[1] -> deleted, replaced by a tombstone
--          live, not (yet) bound  -> marked $ev = "<user id>|<score>": an in-flight update or rotate
--                                    binding it to that user with that score deletes it instead
--          tombstone / foreign    -> untouched
-- Returns  {1, $i or "[]"} a live session bound to the user was ended ($i: JSON array of the index
--                          entries that list it, for the caller to clean), else {0}
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'none' then
  redis.call('HSET', key, '$dead', ARGV[1] .. '|' .. ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3])
  return {0}
end
if kind ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return {0} end
if redis.call('HGET', key, '$u') == ARGV[1] then
  local memberships = redis.call('HGET', key, '$i') or '[]'
  redis.call('DEL', key)
  redis.call('HSET', key, '$dead', ARGV[1] .. '|' .. ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3])
  return {1, memberships}
end
redis.call('HSET', key, '$ev', ARGV[1] .. '|' .. ARGV[2])
return {0}
