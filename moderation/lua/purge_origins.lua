-- Forget the IP address, User-Agent and Referer of comments older than the retention period.
-- KEYS: origins index
-- ARGV: key prefix, cutoff ms, batch size
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'comment:' .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'ip', '', 'user_agent', '', 'referer', '')
  end
  redis.call('ZREM', KEYS[1], id)
end
return #ids
