-- batches (included by create-1, update-1 and rotate-2): one command over a list of any length.
-- Runs `command` on `key` with the items of `list` as arguments, at most 1,000 at a time (unpack
-- is bounded by Lua's stack; 1,000 is even, so field/value pairs stay together); returns the items
-- of the replies in order (HMGET: false for none).
local function callInBatches(command, key, list)
  local items = {}
  for at = 1, #list, 1000 do
    local reply = redis.call(command, key, unpack(list, at, math.min(at + 999, #list)))
    if type(reply) == 'table' then
      for j = 1, #reply do items[#items + 1] = reply[j] end
    end
  end
  return items
end
