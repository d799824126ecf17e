-- create-1: insert-only creation of one session hash.
-- KEYS[1]  session hash
-- ARGV[1]  now (ms since epoch, the driver's clock)
-- ARGV[2]  expiresAt (ms); not after now -> nothing is written
-- ARGV[3]  binding "<userId>|<index score>", or "" when the session is not bound
-- ARGV[4..] field/value pairs to store: metadata ($c $s $x $a, optional $u $ua $ip) and user fields
-- Returns  1 created; or accepted but already over: expired, or ended by a newer login of the same
--            user (a tombstone {$dead = ARGV[3]} left by kill-1 for this very binding); nothing stored
--          0 refused: something else (a session, another tombstone, a foreign value) exists under KEYS[1]
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  if ARGV[3] ~= '' and redis.call('TYPE', key).ok == 'hash' and redis.call('HGET', key, '$dead') == ARGV[3] then return 1 end
  return 0
end
if tonumber(ARGV[2]) <= tonumber(ARGV[1]) then return 1 end
for i = 4, #ARGV, 2 do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', key, ARGV[2])
return 1
