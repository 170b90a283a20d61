-- Drop comments that `moderation export --remove` has written out, each only if it is as it was read:
-- not changed since (every change, a decision, report, rescore or erasure, adds a line to its history,
-- so its history is as long as it was), in no queue that waits for a moderator, under no live claim.
-- KEYS: index of all comments, queue:pending, queue:reported, queue:approved, queue:rejected
-- ARGV: key prefix, now ms, then id / length in bytes of the history that was written pairs
-- Returns the ids dropped.
local prefix, now = ARGV[1], tonumber(ARGV[2])
local dropped = {}
for i = 3, #ARGV, 2 do
  local id, written = ARGV[i], tonumber(ARGV[i + 1])
  local key = prefix .. 'comment:' .. id
  local c = redis.call('HMGET', key, 'claimed_by', 'claim_expires', 'article_id', 'author_key')
  local claimed = c[1] and c[1] ~= '' and tonumber(c[2] or '0') > now
  if redis.call('EXISTS', key) == 1 and redis.call('HSTRLEN', key, 'history') == written and not claimed
      and not redis.call('ZSCORE', KEYS[2], id) and not redis.call('ZSCORE', KEYS[3], id) then
    redis.call('DEL', key, prefix .. 'audit:' .. id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
    redis.call('ZREM', prefix .. 'article:' .. c[3] .. ':published', id)
    redis.call('ZREM', prefix .. 'author:' .. c[4] .. ':comments', id)
    dropped[#dropped + 1] = id
  end
end
return dropped
