-- The per-field part of update-1 and rotate-2. The field arguments sit in ARGV as nSet
-- field/value pairs from setAt, nRemove field names from removeAt and nIncrement field/delta
-- pairs from incrAt.
-- A safe integer in canonical decimal (no sign on 0, no leading zeros); the sign is not a digit.
local function isInteger(s)
  if s == '0' then return true end
  local digits = string.match(s, '^%-?([1-9]%d*)$')
  return digits ~= nil and #digits <= 16 and tonumber(digits) <= 9007199254740991
end

-- Checks every increment before anything is written (Redis does not roll a script back): the
-- current value comes from this write's own sets/removes, else from `stored` (the fields as read,
-- name -> text; nil: none).
-- Returns the pending value of every field the write touches (false = removed), or nil and the
-- field whose value or result is not a safe integer.
local function pendingFields(stored, nSet, nRemove, nIncr, setAt, removeAt, incrAt)
  local pending = {}
  for j = 0, nSet - 1 do pending[ARGV[setAt + 2 * j]] = ARGV[setAt + 2 * j + 1] end
  for j = 0, nRemove - 1 do pending[ARGV[removeAt + j]] = false end
  for j = 0, nIncr - 1 do
    local field, delta = ARGV[incrAt + 2 * j], ARGV[incrAt + 2 * j + 1]
    local current = pending[field]
    if current == nil and stored then current = stored[field] end
    if not current then current = nil end
    if not isInteger(delta) or (current and not isInteger(current)) then return nil, field end
    local sum = (tonumber(current) or 0) + tonumber(delta)
    if sum > 9007199254740991 or sum < -9007199254740991 then return nil, field end
    -- %.0f: the exact decimal of an integer this size (tostring would round past 14 digits).
    pending[field] = string.format('%.0f', sum)
  end
  return pending
end

-- Checks limits.maxFields / limits.maxBytes (ARGV texts, "" for no bound) against what `stored`
-- (every field of the hash as read, name -> text; nil: an empty hash) holds with `pending` applied. User fields are the names not starting with
-- "$"; bytes are names plus values (Lua lengths are bytes). A write that does not grow the count
-- (or the size) passes even when the session is over a lowered limit.
-- Returns nil, or the measure that is exceeded ("fields" or "bytes"), its value after the write and the limit.
local function overLimit(stored, pending, maxFieldsText, maxBytesText)
  if maxFieldsText == '' and maxBytesText == '' then return nil end
  local grows = false
  for _, value in pairs(pending) do
    if value then grows = true end
  end
  if not grows then return nil end
  local fields, bytes = 0, 0
  if stored then
    for name, text in pairs(stored) do
      if string.byte(name, 1) ~= 36 then -- "$": the driver's metadata
        fields = fields + 1
        bytes = bytes + #name + #text
      end
    end
  end
  local newFields, newBytes = fields, bytes
  for name, value in pairs(pending) do
    local old = stored and string.byte(name, 1) ~= 36 and stored[name]
    if old then
      newFields = newFields - 1
      newBytes = newBytes - #name - #old
    end
    if value then
      newFields = newFields + 1
      newBytes = newBytes + #name + #value
    end
  end
  local maxFields, maxBytes = tonumber(maxFieldsText), tonumber(maxBytesText)
  if maxFields and newFields > maxFields and newFields > fields then return 'fields', newFields, maxFields end
  if maxBytes and newBytes > maxBytes and newBytes > bytes then return 'bytes', newBytes, maxBytes end
  return nil
end

-- The increments' results as replies carry them: {field, value text, ...} in ARGV order.
local function countersOf(pending, nIncr, incrAt)
  local counters = {}
  for j = 0, nIncr - 1 do
    local field = ARGV[incrAt + 2 * j]
    counters[#counters + 1] = field
    counters[#counters + 1] = pending[field]
  end
  return counters
end
