-- Forget the IP address, User-Agent and Referer of comments older than the retention period.
-- Comment ids are ULIDs, which sort by creation time: the index of all comments, walked from where
-- the last purge stopped, is the index by age (no second index of every id is kept for this).
-- KEYS: index of all comments, where the last purge stopped
-- ARGV: key prefix, id prefix of the cutoff time (ids below it are older), batch size
local from = redis.call('GET', KEYS[2])
local ids = redis.call('ZRANGEBYLEX', KEYS[1], from and ('(' .. from) or '-', '(' .. ARGV[2],
  'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'comment:' .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'ip', '', 'user_agent', '', 'referer', '')
  end
end
if #ids > 0 then
  redis.call('SET', KEYS[2], ids[#ids])
end
return #ids
