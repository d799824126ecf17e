-- steps (included by create-1, update-1, rotate-2, user-1, end-1 and enlist-1): the user-sessions,
-- index and per-user limit steps of a write. On a Cluster each user-sessions or index key lives in
-- its own slot, so the driver runs them one script each (user-1, end-1, enlist-1). On a standalone
-- or Sentinel server one script may touch every key: the driver then gives the session scripts the
-- key base ("<prefix>:<schema version>", see keys.ts) and they run the steps themselves, atomically
-- with the write, so a write is one round trip. Keys built here follow keys.ts: a session key is
-- "<base>:s:{<first 8 characters of the id>}<rest of the id>", an index entry
-- "<base>:x:{<hex SHA-1 of the membership>}".
local function sessionKeyOf(base, id)
  return base .. ':s:{' .. string.sub(id, 1, 8) .. '}' .. string.sub(id, 9)
end

local function sessionIdOf(base, key)
  return string.sub(key, #base + 5, #base + 12) .. string.sub(key, #base + 14)
end

local function indexKeyOf(base, membership)
  return base .. ':x:{' .. redis.sha1hex(membership) .. '}'
end

-- A JSON array of memberships ($i) as a list; anything else reads as none.
local function membershipList(text)
  if not text then return {} end
  local ok, list = pcall(cjson.decode, text)
  if ok and type(list) == 'table' then return list end
  return {}
end

-- Lists `id` under the sorted set `key` with `score` (texts): drops entries scored at or before
-- `nowText`; adds the id, or raises its score, never lowers it (ZADD GT: the late index step of an
-- older write cannot cut a renewed session's listing short); the key expires at its highest score.
-- Returns 1 listed, 0 not (the score is not after now).
local function listUnder(key, nowText, id, score)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', nowText)
  if tonumber(score) <= tonumber(nowText) then return 0 end
  redis.call('ZADD', key, 'GT', score, id)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', key, top[2]) end
  return 1
end

-- Adds (or re-scores) `id` in the user sessions `key`, after dropping entries scored at or before
-- `nowText`; the key expires at its highest score.
local function addToUser(key, nowText, id, score)
  -- ZADD first: run by EVALSHA, it is the script's first write, so Redis refuses it (and with it the
  -- whole script) while over maxmemory; a write that grows nothing (ZREMRANGEBYSCORE) would let every
  -- later one through. (Run as a function without allow-oom, the whole call is refused before it starts.)
  redis.call('ZADD', key, score, id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', nowText)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', key, top[2]) end
end

-- The per-user limit on behalf of `id`, just bound: when `id` is still listed in the user sessions
-- `key` (a newer binding may have evicted it), removes the oldest other entries (lowest score first)
-- beyond `max`. Returns them as {id, score, id, score, ...}.
local function evictBeyond(key, nowText, id, max)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', nowText)
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local listed = false
  for j = 1, #entries, 2 do
    if entries[j] == id then listed = true end
  end
  local evicted = {}
  if not listed then return evicted end
  local excess = #entries / 2 - tonumber(max)
  for j = 1, #entries, 2 do
    if excess <= 0 then break end
    if entries[j] ~= id then
      redis.call('ZREM', key, entries[j])
      evicted[#evicted + 1] = entries[j]
      evicted[#evicted + 1] = entries[j + 1]
      excess = excess - 1
    end
  end
  return evicted
end

-- Ends the session under `key` on behalf of the user sessions of `userId`, where it is listed with
-- `score` (its absolute deadline); the effects are those end-1 describes. Returns its $i text ("[]"
-- when none) when a live session bound to that user was ended, else nil.
local function endBinding(key, userId, score, tombstoneMs, nowText)
  local now = tonumber(nowText)
  local expireAt = now + tonumber(tombstoneMs)
  local deadline = tonumber(score)
  if deadline and deadline < expireAt then expireAt = math.floor(deadline) end
  local function tombstone()
    if expireAt <= now then return end
    redis.call('HSET', key, '$dead', userId .. '|' .. score)
    redis.call('PEXPIREAT', key, expireAt)
  end
  local kind = redis.call('TYPE', key).ok
  if kind == 'none' then
    tombstone()
    return nil
  end
  if kind ~= 'hash' or redis.call('HEXISTS', key, '$c') == 0 then return nil end
  if redis.call('HGET', key, '$u') == userId then
    local memberships = redis.call('HGET', key, '$i') or '[]'
    redis.call('DEL', key)
    tombstone()
    return memberships
  end
  redis.call('HSET', key, '$ev', userId .. '|' .. score)
  return nil
end

-- Ends the session `id`, listed with `score` in the user sessions of `userId` (as end-1), and takes
-- it out of its index entries. Returns whether a live session was ended.
local function endListed(base, nowText, id, userId, score, tombstoneMs)
  local memberships = endBinding(sessionKeyOf(base, id), userId, score, tombstoneMs, nowText)
  if not memberships then return false end
  for _, membership in ipairs(membershipList(memberships)) do redis.call('ZREM', indexKeyOf(base, membership), id) end
  return true
end

-- The limit step, inline: evicts the user's oldest sessions beyond `max` on behalf of `id` (just
-- bound to `userId`) and ends each. Returns the ids ended.
local function endBeyondLimit(base, userKey, nowText, id, userId, max, tombstoneMs)
  local ended = {}
  local evicted = evictBeyond(userKey, nowText, id, max)
  for j = 1, #evicted, 2 do
    if endListed(base, nowText, evicted[j], userId, evicted[j + 1], tombstoneMs) then ended[#ended + 1] = evicted[j] end
  end
  return ended
end

-- Ending the user's other sessions, inline: every session the user sessions `userKey` list but
-- those in `keep` (a set of ids) ends on behalf of `userId` and leaves `userKey`. Returns the ids ended.
local function endAllBut(base, userKey, nowText, keep, userId, tombstoneMs)
  local ended = {}
  local entries = redis.call('ZRANGE', userKey, 0, -1, 'WITHSCORES')
  for j = 1, #entries, 2 do
    local other = entries[j]
    if not keep[other] then
      if endListed(base, nowText, other, userId, entries[j + 1], tombstoneMs) then ended[#ended + 1] = other end
      redis.call('ZREM', userKey, other)
    end
  end
  return ended
end

-- The index step, inline: `fromId` leaves the entries in `removed`, `toId` is listed (score: its
-- expiry `score`) under those in `added` and `current`.
local function relistInline(base, nowText, fromId, toId, removed, added, current, score)
  for _, membership in ipairs(removed) do redis.call('ZREM', indexKeyOf(base, membership), fromId) end
  for _, list in ipairs({added, current}) do
    for _, membership in ipairs(list) do listUnder(indexKeyOf(base, membership), nowText, toId, score) end
  end
end
