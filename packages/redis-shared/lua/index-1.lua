-- index-1: adds a session to its user's index and enforces the per-user limit.
-- KEYS[1]  user index (sorted set: member = session id, score = the session's absoluteExpiresAt)
-- ARGV[1]  now (ms)   ARGV[2] session id   ARGV[3] score   ARGV[4] maxSessions, or "" for no limit
-- Effects  drops entries whose score is not after now, adds/updates ARGV[2], removes the oldest
--          other entries (lowest score first) beyond the limit, sets the key's expiry to its highest score
-- Returns  {id, score, id, score, ...} the evicted entries (the caller ends those sessions next)
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
redis.call('ZADD', key, ARGV[3], ARGV[2])
local evicted = {}
if ARGV[4] ~= '' then
  local excess = redis.call('ZCARD', key) - tonumber(ARGV[4])
  if excess > 0 then
    local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for j = 1, #entries, 2 do
      if excess <= 0 then break end
      if entries[j] ~= ARGV[2] then
        redis.call('ZREM', key, entries[j])
        evicted[#evicted + 1] = entries[j]
        evicted[#evicted + 1] = entries[j + 1]
        excess = excess - 1
      end
    end
  end
end
local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', key, top[2]) end
return evicted
