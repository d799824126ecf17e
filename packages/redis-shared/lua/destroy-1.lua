-- destroy-1: deletes one live session.
-- KEYS[1]  session hash
-- ARGV     none
-- Returns  {1, userId or "", $i or "[]"}  a live session was deleted (userId: its user index to clean;
--                                         $i: JSON array of the index entries that list it)
--          {0}                            no live session (missing, tombstone or foreign type): nothing written
local key = KEYS[1]
if redis.call('TYPE', key).ok ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return {0} end
local user = redis.call('HGET', key, '$u') or ''
local memberships = redis.call('HGET', key, '$i') or '[]'
redis.call('DEL', key)
return {1, user, memberships}
