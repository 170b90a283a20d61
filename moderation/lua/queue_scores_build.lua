-- Index the scores of one batch of a queue's items (those queued before the indexes existed).
-- Idempotent, and each batch sees the queue as it is, so it may run beside intake and decisions.
-- KEYS: queue, its spam index, its abuse index
-- ARGV: key prefix, lexical cursor ('-' to start), batch size
-- Returns the last id indexed ('' when the queue is done).
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], '+', 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local scores = redis.call('HMGET', ARGV[1] .. 'comment:' .. id, 'spam', 'abuse')
  if scores[1] then
    index_put(KEYS[2], KEYS[3], id, scores[1], scores[2])
  end
end
if #ids < tonumber(ARGV[3]) then
  return ''
end
return ids[#ids]
