-- page-1: one page of the session ids a secondary-index entry lists, soonest expiry first.
-- KEYS[1]  index entry (sorted set: member = session id, score = the session's expiresAt)
-- ARGV[1]  now (ms)   ARGV[2] offset   ARGV[3] count
-- Flags    no-writes: it only reads (so it also runs when Redis is out of memory)
-- Returns  the ids of entries scored after now, from rank ARGV[2], at most ARGV[3] of them (read only;
--          ZRANGE ... BYSCORE is ZRANGEBYSCORE without another command for ACL users to grant)
return redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', ARGV[2], ARGV[3])
