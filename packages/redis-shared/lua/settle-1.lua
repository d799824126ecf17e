-- settle-1: ends a claim of claim-1, acting only when the key still holds that claim.
-- KEYS[1]  legacy key
-- ARGV[1]  nonce of the claim
-- ARGV[2]  "delete" (converted: the legacy session is gone) or "restore" (not converted: put it back)
-- ARGV[3]  the original JSON, for "restore" ("" for "delete")
-- Returns  1  settled
--          0  the key holds no claim, or another one (expired and claimed again): nothing written
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 17) ~= '{"sessMigrating":' then return 0 end
local ok, m = pcall(cjson.decode, v)
if not ok or type(m) ~= 'table' or m.nonce ~= ARGV[1] then return 0 end
if ARGV[2] == 'delete' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL') end
return 1
