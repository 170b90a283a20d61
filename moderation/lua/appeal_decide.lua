-- Decide an appeal: upheld or reversed, by a moderator other than the one who made the decision.
-- KEYS: appeal, queue:appeals, events, the day's transparency counts, the day's appeal durations
-- ARGV: moderator, outcome, explanation, timestamp, now ms, events maxlen
local a = redis.call('HMGET', KEYS[1], 'status', 'comment_id', 'created_ms', 'original_by', 'id')
if not a[1] then
  return {'not_found'}
end
if a[4] and a[4] ~= '' and a[4] == ARGV[1] then
  return {'same_moderator'}
end
if a[1] ~= 'open' then
  return {'conflict'}
end
redis.call('HSET', KEYS[1], 'status', 'decided', 'decided_by', ARGV[1], 'decided_at', ARGV[4], 'outcome', ARGV[2],
  'explanation', ARGV[3])
redis.call('ZREM', KEYS[2], a[5])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'comment_id', a[2], 'event', 'appeal_decided',
  'appeal_id', a[5], 'outcome', ARGV[2], 'explanation', ARGV[3], 'at', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'appeals:' .. ARGV[2], 1)
redis.call('RPUSH', KEYS[5], tostring(math.floor((tonumber(ARGV[5]) - tonumber(a[3])) / 1000)))
return {'ok', a[2]}
