-- user-1: adds a session to its user sessions (the per-user sorted set), or enforces the per-user limit on its behalf.
-- KEYS[1]  user sessions (sorted set: member = session id, score = the session's absoluteExpiresAt)
-- ARGV[1]  now (ms)   ARGV[2] session id   ARGV[3] score (add only)
-- ARGV[4]  "" to add, or maxSessions to enforce the limit after the write that bound ARGV[2]
-- Effects  both: drops entries whose score is not after now
--          add:     adds/updates ARGV[2], sets the key's expiry to its highest score
--          enforce: when ARGV[2] is still listed, removes the oldest other entries (lowest score
--                   first) beyond the limit; when it is not (a newer binding evicted it), nothing
-- Returns  {id, score, id, score, ...} the evicted entries (the caller ends those sessions next); {} when adding
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
if ARGV[4] == '' then
  redis.call('ZADD', key, ARGV[3], ARGV[2])
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', key, top[2]) end
  return {}
end
local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local listed = false
for j = 1, #entries, 2 do
  if entries[j] == ARGV[2] then listed = true end
end
local evicted = {}
if not listed then return evicted end
local excess = #entries / 2 - tonumber(ARGV[4])
for j = 1, #entries, 2 do
  if excess <= 0 then break end
  if entries[j] ~= ARGV[2] then
    redis.call('ZREM', key, entries[j])
    evicted[#evicted + 1] = entries[j]
    evicted[#evicted + 1] = entries[j + 1]
    excess = excess - 1
  end
end
return evicted
