-- File a notice of illegal content on a published comment (DSA Art. 16) and queue it, trusted flaggers first.
-- KEYS: comment, notice, queue:notices, the notifier's token index, events, the day's transparency counts
-- ARGV: notice id, fields (JSON array of field, value, ...), queue score (0 trusted, 1 other), timestamp,
--       events maxlen, category, trusted ('1' or '')
if redis.call('HGET', KEYS[1], 'status') ~= 'published' then
  return {'not_found'}
end
redis.call('HSET', KEYS[2], unpack(cjson.decode(ARGV[2])))
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[1])
redis.call('SET', KEYS[4], ARGV[1])
local comment_id = redis.call('HGET', KEYS[1], 'id')
history_add(KEYS[1], {'event', 'notice', 'actor', 'notifier', 'at', ARGV[4], 'notice_id', ARGV[1], 'category', ARGV[6]})
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'comment_id', comment_id, 'event', 'notice_received',
  'notice_id', ARGV[1], 'category', ARGV[6], 'at', ARGV[4])
redis.call('HINCRBY', KEYS[6], 'notices:' .. ARGV[6], 1)
if ARGV[7] == '1' then
  redis.call('HINCRBY', KEYS[6], 'notices:trusted_flagger', 1)
end
return {'ok'}
