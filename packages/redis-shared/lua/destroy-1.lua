-- destroy-1: deletes one live session, optionally only when it is bound to a given user.
-- KEYS[1]  session hash
-- ARGV[1]  user id the session must be bound to, or "" for any session
-- Flags    allow-oom: it only reads and deletes, so it runs when Redis is out of memory (as it does by EVALSHA)
-- Returns  {1, userId or "", $i or "[]"}  a live session was deleted (userId: its user sessions to clean;
--                                         $i: JSON array of the index entries that list it)
--          {0}                            no live session (missing, tombstone or foreign type), or one
--                                         bound to another user (or none) when ARGV[1] is given: nothing written
local key = KEYS[1]
if redis.call('TYPE', key).ok ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return {0} end
local user = redis.call('HGET', key, '$u') or ''
if ARGV[1] ~= '' and user ~= ARGV[1] then return {0} end
local memberships = redis.call('HGET', key, '$i') or '[]'
redis.call('DEL', key)
return {1, user, memberships}
