-- count-1: how many live sessions one secondary-index entry lists.
-- KEYS[1]  index entry (sorted set: member = session id, score = the session's expiresAt)
-- ARGV[1]  now (ms)
-- Effects  drops entries whose score is not after now (expired sessions)
-- Flags    allow-oom: it only reads and deletes, so it runs when Redis is out of memory (as it does by EVALSHA)
-- Returns  the number of entries left
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
