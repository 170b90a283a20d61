-- Promote a model version (ARGV[1] = 'promote') or roll back to the previous one ('rollback').
-- KEYS: live pointer, history list, audit stream
-- ARGV: operation, version (promote only), actor, timestamp
local current = redis.call('GET', KEYS[1])
local target
if ARGV[1] == 'promote' then
  target = ARGV[2]
  if current then redis.call('LPUSH', KEYS[2], current) end
else
  target = redis.call('LPOP', KEYS[2])
end
if target then
  redis.call('SET', KEYS[1], target)
else
  redis.call('DEL', KEYS[1])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'event', 'model_' .. ARGV[1], 'actor', ARGV[3],
  'at', ARGV[4], 'version', target or 'shipped')
return target
