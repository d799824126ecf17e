-- enlist-1: lists a session under one secondary-index entry.
-- KEYS[1]  index entry (sorted set: member = session id, score = the session's expiresAt)
-- ARGV[1]  now (ms)   ARGV[2] session id   ARGV[3] score: the session's expiresAt
-- Effects  drops entries whose score is not after now; adds ARGV[2], or raises its score (never
--          lowers it: the late index step of an older write cannot cut a renewed session's listing
--          short); sets the key's expiry to its highest score
-- Returns  1 listed, 0 not (the score is not after now)
-- include: steps.lua
return listUnder(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
