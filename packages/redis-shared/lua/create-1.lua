-- create-1: insert-only creation of one session hash.
-- KEYS[1]  session hash
-- ARGV[1]  now (ms since epoch: the manager's clock)
-- ARGV[2]  expiresAt (ms); not after now -> nothing is written
-- ARGV[3]  user id the session is bound to, or "" when it is not bound
-- ARGV[4]  the binding's score in the user sessions (its absolute deadline), or ""
-- ARGV[5]  write id of this driver call (see include/writes.lua), or "" for none
-- ARGV[6]  nSpecs: the number of declared index specs, then nSpecs triples (see include/indexes.lua)
-- then     field/value pairs to store: metadata ($c $s $x $a, optional $t $u $ua $ip) and user fields
-- Effects  with specs, the session's memberships are computed from the stored fields and kept in $i;
--          $w starts with ARGV[5]
-- Returns  {1, {membership, ...}} created; the caller lists the session under each membership
--          {1, $i}  already created by this very call (a re-sent call: the session under KEYS[1] holds
--                  ARGV[4] in $w): nothing written; its current memberships, listed again (harmless)
--          {1, {}} accepted but already over: expired, or ended by a newer login of the same user (a
--                  tombstone {$dead = "<ARGV[3]>|<ARGV[4]>"} left by end-1 for this very binding); nothing stored
--          {0}     refused: something else (a session, another tombstone, a foreign value) exists under KEYS[1]
-- include: indexes.lua
-- include: writes.lua
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  if redis.call('TYPE', key).ok ~= 'hash' then return {0} end
  if ARGV[3] ~= '' and redis.call('HGET', key, '$dead') == ARGV[3] .. '|' .. ARGV[4] then return {1, {}} end
  if redis.call('HEXISTS', key, '$c') == 1 and hasWrite(key, ARGV[5]) then return {1, storedMemberships(key) or {}} end
  return {0}
end
if tonumber(ARGV[2]) <= tonumber(ARGV[1]) then return {1, {}} end
local nSpecs = tonumber(ARGV[6])
for i = 7 + 3 * nSpecs, #ARGV, 2 do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
if ARGV[5] ~= '' then redis.call('HSET', key, '$w', ARGV[5]) end
local memberships = {}
if nSpecs > 0 then
  memberships = membershipsOf(key, readSpecs(nSpecs, 7))
  saveMemberships(key, memberships)
end
redis.call('PEXPIREAT', key, ARGV[2])
return {1, memberships}
