-- claim-1: claims a legacy session (express-session + connect-redis, koa-session + koa-redis) for
-- its one conversion: the JSON value is replaced by a claim holding the original, a deadline and a
-- nonce, keeping the key's TTL. A claim whose deadline has passed is claimed again.
-- KEYS[1]  legacy key (a string holding the legacy session's JSON)
-- ARGV[1]  nonce of this claim
-- ARGV[2]  now (ms)
-- ARGV[3]  claim deadline (ms)
-- Returns  false                          no key, or its value is not a JSON object: nothing written
--          {"busy"}                       a live claim (a parallel conversion): nothing written
--          {"claimed", original, pttl}    claimed: the original JSON and the key's PTTL (ms, -1: none)
local v = redis.call('GET', KEYS[1])
if not v then return false end
local original = v
if string.sub(v, 1, 17) == '{"sessMigrating":' then
  local ok, m = pcall(cjson.decode, v)
  if not ok or type(m) ~= 'table' then return false end
  if tonumber(m.sessMigrating) > tonumber(ARGV[2]) then return {'busy'} end
  original = m.original
end
local ok, parsed = pcall(cjson.decode, original)
if not ok or type(parsed) ~= 'table' or string.sub(original, 1, 1) ~= '{' then return false end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], '{"sessMigrating":' .. ARGV[3] .. ',"nonce":' .. cjson.encode(ARGV[1]) .. ',"original":' .. cjson.encode(original) .. '}', 'KEEPTTL')
return {'claimed', original, tostring(ttl)}
