-- Decide a notice: legality, ground, explanation, remove or keep; exactly one of two racing moderators wins.
-- KEYS: notice, queue:notices, events, the day's transparency counts, the day's notice durations, comment
-- ARGV: moderator, legality, ground, explanation, action, timestamp, now ms, events maxlen
local n = redis.call('HMGET', KEYS[1], 'status', 'comment_id', 'created_ms', 'category', 'trusted')
if not n[1] then
  return {'not_found'}
end
if n[1] ~= 'open' then
  return {'conflict'}
end
redis.call('HSET', KEYS[1], 'status', 'decided', 'decided_by', ARGV[1], 'decided_at', ARGV[6], 'legality', ARGV[2],
  'ground', ARGV[3], 'decision_explanation', ARGV[4], 'action', ARGV[5])
redis.call('ZREM', KEYS[2], redis.call('HGET', KEYS[1], 'id'))
if ARGV[5] == 'remove' then
  -- What the author's statement of reasons rests on (moderation/dsa/statement.py reads these).
  redis.call('HSET', KEYS[6], 'notice_id', redis.call('HGET', KEYS[1], 'id'), 'notice_legality', ARGV[2],
    'notice_ground', ARGV[3], 'notice_explanation', ARGV[4], 'notice_category', n[4], 'notice_trusted', n[5] or '')
end
history_add(KEYS[6], {'event', 'notice_decided', 'actor', ARGV[1], 'at', ARGV[6], 'legality', ARGV[2],
  'action', ARGV[5]})
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'comment_id', n[2], 'event', 'notice_decided',
  'notice_id', redis.call('HGET', KEYS[1], 'id'), 'legality', ARGV[2], 'action', ARGV[5], 'ground', ARGV[3],
  'explanation', ARGV[4], 'at', ARGV[6])
redis.call('HINCRBY', KEYS[4], 'notice_decisions:' .. ARGV[2] .. ':' .. ARGV[5], 1)
redis.call('RPUSH', KEYS[5], tostring(math.floor((tonumber(ARGV[7]) - tonumber(n[3])) / 1000)))
return {'ok', n[2]}
