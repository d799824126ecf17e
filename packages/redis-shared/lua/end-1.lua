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
-- include: steps.lua
local memberships = endBinding(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if memberships then return {1, memberships} end
return {0}
