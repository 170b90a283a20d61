-- Counts one hit on each fixed-window counter and answers, per counter, its count and the
-- milliseconds left in its window. A window starts at its first hit and lasts ARGV[i] ms.
-- KEYS: the counters; ARGV: each counter's window in ms, in KEYS' order.
local answer = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  -- A new counter, or one that lost its expiry: the window starts now.
  if hits == 1 or left < 0 then
    left = tonumber(ARGV[i])
    redis.call('PEXPIRE', key, left)
  end
  answer[#answer + 1] = hits
  answer[#answer + 1] = left
end
return answer
