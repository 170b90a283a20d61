-- Lease the next range of comment ids of a rescore job, or re-lease a range whose worker died.
-- KEYS: all comments index, job hash, job leases
-- ARGV: batch size, now ms, lease ms
local now, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1)
if #expired == 1 then
  local range = expired[1]
  local sep = string.find(range, '|', 1, true)
  redis.call('ZADD', KEYS[3], now + lease, range)
  redis.call('HINCRBY', KEYS[2], 'reclaimed', 1)
  return {range, unpack(redis.call('ZRANGEBYLEX', KEYS[1], '[' .. string.sub(range, 1, sep - 1),
    '[' .. string.sub(range, sep + 1)))}
end
local cursor = redis.call('HGET', KEYS[2], 'cursor')
local start = '-'
if cursor and cursor ~= '' then start = '(' .. cursor end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, tonumber(ARGV[1]))
if #ids == 0 then
  return {}
end
local range = ids[1] .. '|' .. ids[#ids]
redis.call('HSET', KEYS[2], 'cursor', ids[#ids])
redis.call('ZADD', KEYS[3], now + lease, range)
return {range, unpack(ids)}
