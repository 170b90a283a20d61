-- Drop comments that `moderation export --remove` has written out, each only if it is as it was read:
-- not changed since (same version), in no queue that waits for a moderator, under no live claim.
-- KEYS: index of all comments, queue:pending, queue:reported, queue:approved, queue:rejected
-- ARGV: key prefix, now ms, then id / version pairs
-- Returns the ids dropped.
local prefix, now = ARGV[1], tonumber(ARGV[2])
local dropped = {}
for i = 3, #ARGV, 2 do
  local id, version = ARGV[i], ARGV[i + 1]
  local key = prefix .. 'comment:' .. id
  local c = redis.call('HMGET', key, 'version', 'claimed_by', 'claim_expires', 'article_id', 'author_key')
  local claimed = c[2] and c[2] ~= '' and tonumber(c[3] or '0') > now
  if c[1] == version and not claimed
      and not redis.call('ZSCORE', KEYS[2], id) and not redis.call('ZSCORE', KEYS[3], id) then
    redis.call('DEL', key, prefix .. 'audit:' .. id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
    redis.call('ZREM', prefix .. 'article:' .. c[4] .. ':published', id)
    redis.call('ZREM', prefix .. 'author:' .. c[5] .. ':comments', id)
    dropped[#dropped + 1] = id
  end
end
return dropped
