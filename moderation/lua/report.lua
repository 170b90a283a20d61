-- Record a reader's report on a published comment and put the comment in the reported queue.
-- KEYS: comment, queue:reported, events, stats, reported spam and abuse indexes, the indexes' marker
-- ARGV: id, reason, note, timestamp, events maxlen
local id = ARGV[1]
if redis.call('HGET', KEYS[1], 'status') ~= 'published' then
  return {'not_found'}
end
local total = redis.call('HINCRBY', KEYS[1], 'reports', 1)
redis.call('HINCRBY', KEYS[1], 'reports:' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], 'open_reports', 1)
redis.call('ZADD', KEYS[2], 0, id)
local scores = redis.call('HMGET', KEYS[1], 'spam', 'abuse')
index_add(KEYS[7], KEYS[5], KEYS[6], id, scores[1], scores[2])
local entry = {'event', 'reported', 'actor', 'reader', 'at', ARGV[4], 'reason', ARGV[2], 'note', ARGV[3]}
history_add(KEYS[1], entry)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'comment_id', id, unpack(entry))
redis.call('HINCRBY', KEYS[4], 'reports:' .. ARGV[2], 1)
return {'ok', tostring(total)}
