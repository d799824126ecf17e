-- The per-field part of update-1 and rotate-2. The field arguments sit in ARGV as nSet
-- field/value pairs from setAt, nRemove field names from removeAt and nIncrement field/delta
-- pairs from incrAt.
-- The number of `s` when it is a safe integer in canonical decimal (no sign on 0, no leading
-- zeros; the sign is not a digit), else nil. One tonumber: on a long text it costs more than the match.
local function integerOf(s)
  if s == '0' then return 0 end
  local digits = string.match(s, '^%-?([1-9]%d*)$')
  if digits == nil or #digits > 16 then return nil end
  local n = tonumber(s)
  if n > 9007199254740991 or n < -9007199254740991 then return nil end
  return n
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
    local deltaNumber, currentNumber = integerOf(delta), 0
    if current then currentNumber = integerOf(current) end
    if not deltaNumber or not currentNumber then return nil, field end
    local sum = currentNumber + deltaNumber
    if sum > 9007199254740991 or sum < -9007199254740991 then return nil, field end
    -- %.0f: the exact decimal of an integer this size (tostring would round past 14 digits).
    pending[field] = string.format('%.0f', sum)
  end
  return pending
end

-- Checks limits.maxFields / limits.maxBytes (ARGV texts, "" for no bound) against the user fields
-- after the write: `stored` (the fields as read, name -> text, holding at least every name the write
-- touches; nil: the session keeps none of its fields) with `pending` applied. User fields are the
-- names not starting with "$"; bytes are names plus values (Lua lengths are bytes). Only a write that
-- grows the count (or the size) can be refused, so one that does not passes even when the session is
-- over a lowered limit, and only such a write reads the whole hash `key` for the totals.
-- Returns nil, or the measure that is exceeded ("fields" or "bytes"), its value after the write and the limit.
local function overLimit(key, stored, pending, maxFieldsText, maxBytesText)
  if maxFieldsText == '' and maxBytesText == '' then return nil end
  local addedFields, addedBytes = 0, 0
  for name, value in pairs(pending) do
    if string.byte(name, 1) ~= 36 then -- "$": the driver's metadata
      local old = stored and stored[name]
      if old then
        addedFields = addedFields - 1
        addedBytes = addedBytes - #name - #old
      end
      if value then
        addedFields = addedFields + 1
        addedBytes = addedBytes + #name + #value
      end
    end
  end
  if addedFields <= 0 and addedBytes <= 0 then return nil end
  local fields, bytes = 0, 0
  if stored then
    local pairsRead = redis.call('HGETALL', key)
    for j = 1, #pairsRead, 2 do
      local name = pairsRead[j]
      if string.byte(name, 1) ~= 36 then
        fields = fields + 1
        bytes = bytes + #name + #pairsRead[j + 1]
      end
    end
  end
  local maxFields, maxBytes = tonumber(maxFieldsText), tonumber(maxBytesText)
  if maxFields and addedFields > 0 and fields + addedFields > maxFields then return 'fields', fields + addedFields, maxFields end
  if maxBytes and addedBytes > 0 and bytes + addedBytes > maxBytes then return 'bytes', bytes + addedBytes, maxBytes end
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
