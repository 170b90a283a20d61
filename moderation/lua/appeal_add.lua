-- File an appeal (DSA Art. 20): one per appellant and decision, queued for a moderator.
-- KEYS: appeal, the appellant's one-appeal marker, queue:appeals, events, the day's transparency counts
-- ARGV: appeal id, fields (JSON array), timestamp, events maxlen, comment id
if redis.call('SET', KEYS[2], ARGV[1], 'NX') == false then
  return {'exists', redis.call('GET', KEYS[2])}
end
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[2])))
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'comment_id', ARGV[5], 'event', 'appeal_received',
  'appeal_id', ARGV[1], 'at', ARGV[3])
redis.call('HINCRBY', KEYS[5], 'appeals:received', 1)
return {'ok'}
