-- The per-field part of update-1 and rotate-2. The field arguments sit in ARGV as nSet
-- field/value pairs from setAt, nRemove field names from removeAt and nIncrement field/delta
-- pairs from incrAt.
local function isInteger(s)
  return s == '0' or (string.match(s, '^%-?[1-9]%d*$') ~= nil and #s <= 16)
end

-- Checks every increment before anything is written (Redis does not roll a script back): the
-- current value comes from this write's own sets/removes, else from the hash `source` (nil: none).
-- Returns the pending value of every field the write touches (false = removed), or nil and the
-- field whose value or result is not a safe integer.
local function pendingFields(source, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
  local pending = {}
  for j = 0, nSet - 1 do pending[ARGV[setAt + 2 * j]] = ARGV[setAt + 2 * j + 1] end
  for j = 0, nRemove - 1 do pending[ARGV[removeAt + j]] = false end
  for j = 0, nIncr - 1 do
    local field, delta = ARGV[incrAt + 2 * j], ARGV[incrAt + 2 * j + 1]
    local current = pending[field]
    if current == nil and source then current = redis.call('HGET', source, field) end
    if not current then current = nil end
    if not isInteger(delta) or (current and not isInteger(current)) then return nil, field end
    local sum = (tonumber(current) or 0) + tonumber(delta)
    if sum > 9007199254740991 or sum < -9007199254740991 then return nil, field end
    pending[field] = tostring(sum)
  end
  return pending
end

-- Writes the sets, removes and increments to `key`; returns {field, value, ...} of the increments.
local function applyFields(key, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
  for j = 0, nSet - 1 do redis.call('HSET', key, ARGV[setAt + 2 * j], ARGV[setAt + 2 * j + 1]) end
  for j = 0, nRemove - 1 do redis.call('HDEL', key, ARGV[removeAt + j]) end
  local counters = {}
  for j = 0, nIncr - 1 do
    local field = ARGV[incrAt + 2 * j]
    counters[#counters + 1] = field
    counters[#counters + 1] = redis.call('HINCRBY', key, field, ARGV[incrAt + 2 * j + 1])
  end
  return counters
end
