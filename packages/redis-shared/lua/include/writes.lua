-- writes (included by create-1, update-1 and rotate-2): write ids, so a re-sent script is harmless.
-- Every driver write call (create, update, rotate) carries a random id of WRITE_ID_LENGTH characters
-- (48 random bits), the same for every attempt of that call. A session hash keeps the ids of its
-- last WRITES_KEPT writes in $w, concatenated, newest last: at most 64 bytes, so $w never takes a
-- session out of Redis's compact listpack encoding (hash-max-listpack-value 64). A client that
-- re-sends a script whose reply was lost with the connection (ioredis: autoResendUnfulfilledCommands)
-- finds its id there and answers as before instead of writing again. An empty id is never recorded
-- nor found. Tombstones do not keep ids.
local WRITES_KEPT = 8
local WRITE_ID_LENGTH = 8

-- Whether the id list `list` (the text of $w, or nil) holds `id` as one of its ids: a plain find,
-- and a match counts only where an id starts (one that spans two ids is not one).
local function listHasWrite(list, id)
  if #id ~= WRITE_ID_LENGTH or not list then return false end
  local at = string.find(list, id, 1, true)
  while at do
    if at % WRITE_ID_LENGTH == 1 then return true end
    at = string.find(list, id, at + 1, true)
  end
  return false
end

local function hasWrite(key, id)
  if id == '' then return false end
  return listHasWrite(redis.call('HGET', key, '$w'), id)
end

-- The id list `list` (the text of $w, or nil) with `id` recorded, or nil when `id` is empty.
local function withWrite(list, id)
  if id == '' then return nil end
  list = list or ''
  if #list % WRITE_ID_LENGTH ~= 0 then list = '' end -- not a list of this layout: start afresh
  list = list .. id
  local keep = WRITES_KEPT * WRITE_ID_LENGTH
  if #list > keep then list = string.sub(list, #list - keep + 1) end
  return list
end
