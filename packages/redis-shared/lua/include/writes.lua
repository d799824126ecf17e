-- writes (included by create-1, update-1 and rotate-2): write ids, so a re-sent script is harmless.
-- Every driver write call (create, update, rotate) carries a random id, the same for every attempt
-- of that call. A session hash keeps the ids of its last WRITES_KEPT writes in $w (space-separated,
-- newest last). A client that re-sends a script whose reply was lost with the connection (ioredis:
-- autoResendUnfulfilledCommands) finds its id there and answers as before instead of writing again.
-- An empty id is never recorded nor found. Tombstones do not keep ids.
local WRITES_KEPT = 8

local function hasWrite(key, id)
  if id == '' then return false end
  local list = redis.call('HGET', key, '$w')
  if not list then return false end
  for seen in string.gmatch(list, '%S+') do
    if seen == id then return true end
  end
  return false
end

local function recordWrite(key, id)
  if id == '' then return end
  local ids = {}
  local list = redis.call('HGET', key, '$w')
  if list then
    for seen in string.gmatch(list, '%S+') do ids[#ids + 1] = seen end
  end
  ids[#ids + 1] = id
  local first = math.max(1, #ids - WRITES_KEPT + 1)
  redis.call('HSET', key, '$w', table.concat(ids, ' ', first, #ids))
end
