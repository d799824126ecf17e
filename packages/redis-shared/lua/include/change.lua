-- change (included by update-1 and rotate-2): the ARGV layout both scripts share, and their tail.
-- ARGV[1]  now (ms since epoch: the manager's clock)
-- ARGV[2]  expiresAt (ms; not after now -> the session is deleted)
-- ARGV[3]  lastSeenAt (ms)
-- ARGV[4]  absoluteExpiresAt (ms), or "" to keep it
-- ARGV[5]  the session's own idle timeout ($t): "" keep, "-" clear, or ms
-- ARGV[6]  user op: "" keep, "-" unbind, "+" bind to ARGV[7]
-- ARGV[7]  user id (bind)     ARGV[8] the binding's score in the user sessions (eviction marker check)
-- ARGV[9]  expected $a        ARGV[10] expected $u ("" = none): what the driver read before the
--          user-sessions step; ARGV[9] "" means no expectation (ARGV[10] is then only the user
--          whose sessions ARGV[21] names)
-- ARGV[11] write id of this driver call (see writes.lua), or "" for none
-- ARGV[12] keepData: "1" keeps the user fields (update-1: always), "0" starts with none
-- ARGV[13] nSet   ARGV[14] nRemove   ARGV[15] nIncrement   ARGV[16] nSpecs
-- ARGV[17] maxFields   ARGV[18] maxBytes: limits on the user fields after the write ("" for none; see fields.lua)
-- ARGV[19] key base for the inline steps (see steps.lua), or "" when the driver runs them itself
-- ARGV[20] inline: the user sessions of the user the session ends up bound to (ARGV[7]), or ""
-- ARGV[21] inline: the user sessions of ARGV[10], or ""
-- ARGV[22] inline: maxSessions of a binding ("" for no limit)   ARGV[23] tombstone lifetime (ms, see end-1)
-- ARGV[24] inline: "1" ends every other session of the user ARGV[20] lists, "" not
-- from ARGV[25]: nSet field/value pairs, nRemove field names, nIncrement field/delta pairs, nSpecs
--          index spec triples (see indexes.lua)
-- Inline steps (ARGV[19] given), atomically with the write, before the reply: the kept session's id
--          joins ARGV[20] (before anything is written: a refused step writes nothing); the old id
--          leaves ARGV[21] when the session moved, was deleted or changed user (only when the stored
--          user is ARGV[10]); with ARGV[24], before the write, every other session ARGV[20] lists
--          ends (as end-1) and leaves it; the index entries follow the membership change; a
--          binding with ARGV[22] ends the user's oldest sessions beyond it (as user-1 then end-1).
--          A re-sent call runs none (its first run did).
-- Replies of both scripts when written (or already written by this call), one flat array (Redis
-- turns every table of a reply into protocol with seven lookups of its own, so nested lists cost
-- the server more than the rest of the reply):
--          {1, previousUserId or "", $x, $s, $a, $t, expiresAt, nAdded, nRemoved, nCurrent, nEnded,
--           nEndedOthers, added..., removed..., current..., ended..., endedOthers..., field, value, ...}
--          $x $s $a $t: the times the store kept, $t "" when none ("" for all four when the write
--          deleted the session); expiresAt: the memberships' score, "" when not reported;
--          added/removed/current: memberships (see each script); ended: the ids the inline limit
--          step ended; endedOthers: the ids ARGV[24] ended; then the counters after the write
local setAt = 25
local now, expiresAt, userOp, userId, writeId, binding, keepData, nSet, nRemove, nIncr, nSpecs
local base, userKey, previousUserKey, maxSessions, tombstoneMs, endOthers, removeAt, incrAt, specAt

-- Reads the layout above from ARGV into the names the functions below share: the first thing each
-- script that includes this file does (each script is also a function library, whose top level
-- runs once, at FUNCTION LOAD, and sees no ARGV: scripts/embed-lua.mjs).
local function readChange()
  now, expiresAt = tonumber(ARGV[1]), tonumber(ARGV[2])
  userOp, userId, writeId = ARGV[6], ARGV[7], ARGV[11]
  binding = userId .. '|' .. ARGV[8]
  keepData = ARGV[12] == '1'
  nSet, nRemove, nIncr, nSpecs = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
  base, userKey, previousUserKey, maxSessions, tombstoneMs = ARGV[19], ARGV[20], ARGV[21], ARGV[22], ARGV[23]
  endOthers = ARGV[24] == '1'
  removeAt = setAt + 2 * nSet
  incrAt = removeAt + nRemove
  specAt = incrAt + 2 * nIncr
end

-- The names a write reads: the metadata, the fields it increments and, when limits are to be judged,
-- the fields it sets or removes (their stored sizes tell whether the write grows the session).
local function namesRead()
  local names = {'$c', '$x', '$s', '$a', '$t', '$u', '$ev', '$w', '$i'}
  for j = 0, nIncr - 1 do names[#names + 1] = ARGV[incrAt + 2 * j] end
  if ARGV[17] ~= '' or ARGV[18] ~= '' then
    for j = 0, nSet - 1 do names[#names + 1] = ARGV[setAt + 2 * j] end
    for j = 0, nRemove - 1 do names[#names + 1] = ARGV[removeAt + j] end
  end
  return names
end

-- The reply of a read of the hash `key` (the command and its arguments after the key), or nil when
-- `key` holds a value of another type: redis.pcall's WRONGTYPE error tells it, so no TYPE is run
-- first (a command inside a script costs Redis about as much again as the command itself). Any
-- other error is raised by running the read again with redis.call, so it reaches the caller as
-- Redis words it (Redis 6.2 cannot pass on an error raised as a table).
local function readHash(command, key, ...)
  local reply = redis.pcall(command, key, ...)
  if type(reply) == 'table' and reply.err then
    if string.sub(reply.err, 1, 9) == 'WRONGTYPE' then return nil end
    return redis.call(command, key, ...)
  end
  return reply
end

-- The fields of `key` (name -> text) and its $x as a number when it holds a live session by the
-- caller's clock (a hash with $c whose $x is after now), else nil: every field (HGETALL) when `all`, else only those the
-- write reads (HMGET of namesRead(), in one command unless there are over 1,000 names).
local function liveFields(key, all)
  local stored = {}
  if all then
    local pairsRead = readHash('HGETALL', key)
    if not pairsRead then return nil end
    for j = 1, #pairsRead, 2 do stored[pairsRead[j]] = pairsRead[j + 1] end
  else
    local names = namesRead()
    local values
    if #names <= 1000 then
      values = readHash('HMGET', key, unpack(names))
    elseif redis.call('TYPE', key).ok == 'hash' then
      values = callInBatches('HMGET', key, names)
    end
    if not values then return nil end
    for j = 1, #names do
      if values[j] then stored[names[j]] = values[j] end
    end
  end
  local x = tonumber(stored['$x'])
  if stored['$c'] == nil or x == nil or x <= now then return nil end
  return stored, x
end

-- The times `key` holds, as the replies carry them.
local function storedTimes(key)
  local t = redis.call('HMGET', key, '$x', '$s', '$a', '$t')
  return {t[1] or '', t[2] or '', t[3] or '', t[4] or ''}
end

-- Appends the items of `list` to `into`.
local function appendAll(into, list)
  local n = #into
  for j = 1, #list do into[n + j] = list[j] end
end

-- The flat reply of a write (see above): `memberships` {added, removed, current, expiresAt or nil},
-- `times` {$x, $s, $a, $t} or {} (deleted), the ids ended inline, then `counters` {field, value, ...}.
local function writeReply(prevUser, memberships, times, ended, endedOthers, counters)
  local added, removed, current = memberships[1], memberships[2], memberships[3]
  local reply = {1, prevUser, times[1] or '', times[2] or '', times[3] or '', times[4] or '', memberships[4] or '',
    #added, #removed, #current, #ended, #endedOthers}
  appendAll(reply, added)
  appendAll(reply, removed)
  appendAll(reply, current)
  appendAll(reply, ended)
  appendAll(reply, endedOthers)
  appendAll(reply, counters)
  return reply
end

-- The reply to a call whose write id `key` already holds (a re-sent call): nothing is written;
-- the current values of the fields to increment.
local function resentReply(key, user, removed, current)
  local counters = {}
  for j = 0, nIncr - 1 do
    local field = ARGV[incrAt + 2 * j]
    counters[#counters + 1] = field
    counters[#counters + 1] = redis.call('HGET', key, field) or '0'
  end
  return writeReply(user, {{}, removed, current, redis.call('HGET', key, '$x') or ARGV[2]}, storedTimes(key), {}, {}, counters)
end

-- The inline steps that leave the old id behind (see above): out of its index entries (`removed`)
-- and, when the session moved, was deleted or changed user, out of its user's sessions.
local function leaveInline(fromKey, toKey, prevUser, removed, kept)
  if base == '' then return end
  local fromId = sessionIdOf(base, fromKey)
  for _, membership in ipairs(removed) do redis.call('ZREM', indexKeyOf(base, membership), fromId) end
  local finalUser = prevUser
  if userOp == '+' then finalUser = userId elseif userOp == '-' then finalUser = '' end
  if prevUser ~= '' and previousUserKey ~= '' and prevUser == ARGV[10] and (fromKey ~= toKey or not kept or finalUser ~= prevUser) then
    redis.call('ZREM', previousUserKey, fromId)
  end
end

-- Before the write of a session that is kept: the inline user-sessions step (the id joins them),
-- after ending the user's other sessions when asked. Returns the ids ended.
local function enlistInline(fromKey, toKey, prevUser)
  if base == '' or userKey == '' then return {} end
  local fromId, toId = sessionIdOf(base, fromKey), sessionIdOf(base, toKey)
  local ended = {}
  if endOthers then
    local finalUser = prevUser
    if userOp == '+' then finalUser = userId end
    ended = endAllBut(base, userKey, ARGV[1], {[fromId] = true, [toId] = true}, finalUser, tombstoneMs)
  end
  addToUser(userKey, ARGV[1], toId, ARGV[8])
  return ended
end

-- The reply of a write that deleted the session (expired, or its binding lost to newer logins).
local function deletedReply(fromKey, toKey, prevUser, before)
  leaveInline(fromKey, toKey, prevUser, before or {}, false)
  return writeReply(prevUser, {{}, before or {}, {}}, {}, {}, {}, {})
end

-- Judges the change before anything is written: the fields `source` (as read; nil: none kept) with the change
-- against the field rules and limits, then the expiry (not after now: `fromKey` is deleted). Returns the
-- reply to send (refused or deleted), or nil and the pending fields of a write that goes ahead.
local function judged(source, fromKey, toKey, prevUser, before)
  local pending, refused = pendingFields(source, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
  if not pending then return {-1, refused} end
  local measure, value, limit = overLimit(fromKey, source, pending, ARGV[17], ARGV[18])
  if measure then return {-4, measure, value, limit} end
  if expiresAt <= now then
    redis.call('DEL', fromKey)
    return deletedReply(fromKey, toKey, prevUser, before)
  end
  return nil, pending
end

-- Whether the expectation (ARGV[9], ARGV[10]) no longer holds for the session whose fields are `stored`.
local function expectationFails(stored, prevUser)
  return ARGV[9] ~= '' and ((stored['$a'] or '') ~= ARGV[9] or prevUser ~= ARGV[10])
end

-- Writes the change to `key`: the pending fields and the metadata in one HSET, the removals in one
-- HDEL, then the expiry. `stored` is what the session held before (as read). A change that starts a
-- new lifetime (ARGV[4] or ARGV[5] given: a login or a regenerate with its own lifetimes) sets the
-- expiry it carries; any other keeps the later of the stored and the given one.
-- `storedExpiry`: stored['$x'] as a number (from liveFields), so it is not converted twice.
-- `sameKey`: `key` is the key the session was read from (update-1), whose TTL already ends at the
-- stored $x (every write sets the two together), so PEXPIREAT runs only when the expiry moves; a
-- rotation's new key always gets it. The TTL only cleans up: $x is what says a session is live.
-- Returns the expiry kept, whether it moved, and the times kept {$x, $s, $a, $t or ""}.
local function writeChange(key, stored, storedExpiry, pending, sameKey)
  local expiresText = (ARGV[4] ~= '' or ARGV[5] ~= '') and ARGV[2] or later(stored['$x'], ARGV[2], expiresAt, storedExpiry)
  local seenText = later(stored['$s'], ARGV[3], tonumber(ARGV[3]))
  local set, removed = {'$s', seenText, '$x', expiresText}, {}
  for name, value in pairs(pending) do
    if value then
      set[#set + 1] = name
      set[#set + 1] = value
    else
      removed[#removed + 1] = name
    end
  end
  local writes = withWrite(stored['$w'], writeId)
  if writes then
    set[#set + 1] = '$w'
    set[#set + 1] = writes
  end
  local absoluteText = stored['$a'] or ''
  if ARGV[4] ~= '' then
    absoluteText = ARGV[4]
    set[#set + 1] = '$a'
    set[#set + 1] = absoluteText
  end
  local timeoutText = stored['$t'] or ''
  if ARGV[5] == '-' then
    timeoutText = ''
    removed[#removed + 1] = '$t'
  elseif ARGV[5] ~= '' then
    timeoutText = ARGV[5]
    set[#set + 1] = '$t'
    set[#set + 1] = timeoutText
  end
  if userOp == '+' then
    set[#set + 1] = '$u'
    set[#set + 1] = userId
    removed[#removed + 1] = '$ev'
  elseif userOp == '-' then
    removed[#removed + 1] = '$u'
  end
  callInBatches('HSET', key, set)
  callInBatches('HDEL', key, removed)
  local moved = stored['$x'] ~= expiresText
  if moved or not sameKey then redis.call('PEXPIREAT', key, expiresText) end
  return expiresText, moved, {expiresText, seenText, absoluteText, timeoutText}
end

-- The memberships of `key` after the write: recomputed from the stored fields when there are specs
-- and `recompute`, the write touched an indexed field, or $i was missing; else `before`.
local function membershipsAfter(key, before, pending, recompute)
  local after = before or {}
  if nSpecs > 0 then
    local specs = readSpecs(nSpecs, specAt)
    local written = {}
    for field in pairs(pending) do written[#written + 1] = field end
    if before == nil or recompute or touchesIndex(specs, written) then
      after = membershipsOf(key, specs)
      saveMemberships(key, after)
    end
  end
  return after
end

-- The reply of a write, with the times it kept and its counters, after the inline steps: index entries, the old id out of
-- its user's sessions, the per-user limit.
local function writtenReply(fromKey, key, prevUser, memberships, times, counters, endedOthers)
  local ended = {}
  if base ~= '' then
    leaveInline(fromKey, key, prevUser, memberships[2], true)
    local toId = sessionIdOf(base, key)
    relistInline(base, ARGV[1], toId, toId, {}, memberships[1], memberships[3], memberships[4])
    if userOp == '+' and maxSessions ~= '' then
      ended = endBeyondLimit(base, userKey, ARGV[1], toId, userId, maxSessions, tombstoneMs)
    end
  end
  return writeReply(prevUser, memberships, times, ended, endedOthers, counters)
end
