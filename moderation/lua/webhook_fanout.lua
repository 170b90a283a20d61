-- Turn one events-stream entry into webhook delivery jobs and acknowledge it, in one step, and only
-- while this consumer still owns the entry: a worker that stalled past the reclaim time, and whose
-- entry another worker has since taken over, must not enqueue the deliveries a second time.
-- KEYS: events stream, jobs hash, due zset
-- ARGV: group, consumer, entry id, due ms, then job id / job JSON pairs
local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #owner == 0 then
  return 0
end
for i = 5, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[i])
  end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return 1
