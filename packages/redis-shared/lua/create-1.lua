-- create-1: insert-only creation of one session hash.
-- KEYS[1]  session hash
-- ARGV[1]  now (ms since epoch, the driver's clock)
-- ARGV[2]  expiresAt (ms); not after now -> nothing is written
-- ARGV[3]  binding "<userId>|<index score>", or "" when the session is not bound
-- ARGV[4]  nSpecs: the number of declared index specs, then nSpecs triples (see include/indexes.lua)
-- then     field/value pairs to store: metadata ($c $s $x $a, optional $u $ua $ip) and user fields
-- Effects  with specs, the session's memberships are computed from the stored fields and kept in $i
-- Returns  {1, {membership, ...}} created; the caller lists the session under each membership
--          {1, {}} accepted but already over: expired, or ended by a newer login of the same user (a
--                  tombstone {$dead = ARGV[3]} left by kill-1 for this very binding); nothing stored
--          {0}     refused: something else (a session, another tombstone, a foreign value) exists under KEYS[1]
-- include: indexes.lua
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  if ARGV[3] ~= '' and redis.call('TYPE', key).ok == 'hash' and redis.call('HGET', key, '$dead') == ARGV[3] then return {1, {}} end
  return {0}
end
if tonumber(ARGV[2]) <= tonumber(ARGV[1]) then return {1, {}} end
local nSpecs = tonumber(ARGV[4])
for i = 5 + 3 * nSpecs, #ARGV, 2 do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
local memberships = {}
if nSpecs > 0 then
  memberships = membershipsOf(key, readSpecs(nSpecs, 5))
  saveMemberships(key, memberships)
end
redis.call('PEXPIREAT', key, ARGV[2])
return {1, memberships}
