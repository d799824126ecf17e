-- user-1: adds a session to its user sessions (the per-user sorted set), or enforces the per-user limit on its behalf.
-- KEYS[1]  user sessions (sorted set: member = session id, score = the session's absoluteExpiresAt)
-- ARGV[1]  now (ms)   ARGV[2] session id   ARGV[3] score (add only)
-- ARGV[4]  "" to add, or maxSessions to enforce the limit after the write that bound ARGV[2]
-- Effects  both: drops entries whose score is not after now
--          add:     adds/updates ARGV[2], sets the key's expiry to its highest score
--          enforce: when ARGV[2] is still listed, removes the oldest other entries (lowest score
--                   first) beyond the limit; when it is not (a newer binding evicted it), nothing
-- Returns  {id, score, id, score, ...} the evicted entries (the caller ends those sessions next); {} when adding
-- include: steps.lua
if ARGV[4] == '' then
  addToUser(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
  return {}
end
return evictBeyond(KEYS[1], ARGV[1], ARGV[2], ARGV[4])
