-- indexes (included by create-1, update-1 and rotate-2): declared secondary indexes.
-- Specs arrive in ARGV as a count followed by that many triples: kind ("f" field, "p" field prefix),
-- index name, field name or prefix. A membership is the string "<index name>\0<value>": a "f" spec
-- gives the field's stored JSON text when it holds a string, number or boolean; a "p" spec gives the
-- rest of the name of every field with the prefix. The hash keeps its memberships in $i (JSON array),
-- so destroy-1 and end-1 know which index entries to clean without the specs.
local function readSpecs(count, at)
  local specs = {}
  for j = 0, count - 1 do
    specs[#specs + 1] = { kind = ARGV[at + 3 * j], name = ARGV[at + 3 * j + 1], target = ARGV[at + 3 * j + 2] }
  end
  return specs
end

local function membershipsOf(key, specs)
  local list = {}
  local names = nil
  for _, spec in ipairs(specs) do
    if spec.kind == 'f' then
      local text = redis.call('HGET', key, spec.target)
      if text and string.find(text, '^["tf%d%-]') then list[#list + 1] = spec.name .. '\0' .. text end
    else
      -- HGETALL rather than HKEYS: one command fewer for ACL users to grant (only when a field with an
      -- indexed prefix was written).
      names = names or redis.call('HGETALL', key)
      local n = #spec.target
      for j = 1, #names, 2 do
        local name = names[j]
        if string.sub(name, 1, n) == spec.target then list[#list + 1] = spec.name .. '\0' .. string.sub(name, n + 1) end
      end
    end
  end
  return list
end

-- Whether writing any of `names` can change a membership.
local function touchesIndex(specs, names)
  for _, spec in ipairs(specs) do
    local n = #spec.target
    for _, name in ipairs(names) do
      if (spec.kind == 'f' and name == spec.target) or (spec.kind == 'p' and string.sub(name, 1, n) == spec.target) then
        return true
      end
    end
  end
  return false
end

-- The memberships in the text of $i (nil: none stored, or not a list).
local function membershipsIn(text)
  if not text then return nil end
  local ok, list = pcall(cjson.decode, text)
  if ok and type(list) == 'table' then return list end
  return nil
end

local function storedMemberships(key)
  return membershipsIn(redis.call('HGET', key, '$i'))
end

local function saveMemberships(key, list)
  if #list == 0 then
    redis.call('HSET', key, '$i', '[]')
  else
    redis.call('HSET', key, '$i', cjson.encode(list))
  end
end

-- The items of `a` that are not in `b` (`a` itself when either is empty: no table to make).
local function without(a, b)
  if #a == 0 or #b == 0 then return a end
  local seen = {}
  for _, item in ipairs(b) do seen[item] = true end
  local out = {}
  for _, item in ipairs(a) do
    if not seen[item] then out[#out + 1] = item end
  end
  return out
end
