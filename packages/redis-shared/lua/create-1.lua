-- create-1: insert-only creation of one session hash.
-- KEYS[1]  session hash
-- ARGV[1]  now (ms since epoch: the manager's clock)
-- ARGV[2]  expiresAt (ms); not after now -> nothing is written
-- ARGV[3]  user id the session is bound to, or "" when it is not bound
-- ARGV[4]  the binding's score in the user sessions (its absolute deadline), or ""
-- ARGV[5]  write id of this driver call (see include/writes.lua), or "" for none
-- ARGV[6]  key base for the inline steps (see include/steps.lua), or "" when the driver runs them itself
-- ARGV[7]  inline: the user sessions of ARGV[3], or ""   ARGV[8] inline: maxSessions ("" for no limit)
-- ARGV[9]  inline: tombstone lifetime (ms, see end-1)
-- ARGV[10] nSpecs: the number of declared index specs, then nSpecs triples (see include/indexes.lua)
-- then     field/value pairs to store: metadata ($c $s $x $a, optional $t $u $ua $ip) and user fields
-- Effects  the fields in one HSET (one per 1,000 arguments); with specs, the session's memberships are computed from the stored fields and kept in $i;
--          $w starts with ARGV[5]. Inline (ARGV[6] given), when the session is created: it joins
--          ARGV[7] before anything is written (a refused step writes nothing), is listed under its
--          memberships, and the user's oldest sessions beyond ARGV[8] are ended (as user-1 then end-1)
-- Returns  {1, {membership, ...}, ended} created; the caller lists the session under each membership
--                  (inline: already listed); ended: the ids the inline limit step ended
--          {1, $i, {}}  already created by this very call (a re-sent call: the session under KEYS[1] holds
--                  ARGV[5] in $w): nothing written; its current memberships, listed again (harmless)
--          {1, {}, {}} accepted but already over: expired, or ended by a newer login of the same user (a
--                  tombstone {$dead = "<ARGV[3]>|<ARGV[4]>"} left by end-1 for this very binding); nothing stored
--          {0}     refused: something else (a session, another tombstone, a foreign value) exists under KEYS[1]
-- include: indexes.lua
-- include: writes.lua
-- include: steps.lua
-- include: batches.lua
local key = KEYS[1]
local base, userKey = ARGV[6], ARGV[7]
if redis.call('EXISTS', key) == 1 then
  if redis.call('TYPE', key).ok ~= 'hash' then return {0} end
  if ARGV[3] ~= '' and redis.call('HGET', key, '$dead') == ARGV[3] .. '|' .. ARGV[4] then return {1, {}, {}} end
  if redis.call('HEXISTS', key, '$c') == 1 and hasWrite(key, ARGV[5]) then return {1, storedMemberships(key) or {}, {}} end
  return {0}
end
if tonumber(ARGV[2]) <= tonumber(ARGV[1]) then return {1, {}, {}} end
local id = base ~= '' and sessionIdOf(base, key) or ''
if base ~= '' and userKey ~= '' then addToUser(userKey, ARGV[1], id, ARGV[4]) end
local nSpecs = tonumber(ARGV[10])
local set = {}
for i = 11 + 3 * nSpecs, #ARGV do set[#set + 1] = ARGV[i] end
if ARGV[5] ~= '' then
  set[#set + 1] = '$w'
  set[#set + 1] = ARGV[5]
end
callInBatches('HSET', key, set)
local memberships = {}
if nSpecs > 0 then
  memberships = membershipsOf(key, readSpecs(nSpecs, 11))
  saveMemberships(key, memberships)
end
redis.call('PEXPIREAT', key, ARGV[2])
local ended = {}
if base ~= '' then
  relistInline(base, ARGV[1], id, id, {}, memberships, {}, ARGV[2])
  if userKey ~= '' and ARGV[8] ~= '' then ended = endBeyondLimit(base, userKey, ARGV[1], id, ARGV[3], ARGV[8], ARGV[9]) end
end
return {1, memberships, ended}
