-- Log one webhook delivery attempt and settle its job: reschedule it ('retrying') or forget it
-- (delivered, failed, dropped). The job is only touched while this worker's lease still holds it
-- (its score is still the lease end handed out by webhook_claim.lua); a worker whose lease ran out
-- and whose job another worker took over only adds its log entry.
-- KEYS: due zset, jobs hash, attempts hash, delivery log stream
-- ARGV: job id, lease end ms, outcome, next due ms, log maxlen, then log field/value pairs
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local owned = score and tonumber(score) == tonumber(ARGV[2])
if owned then
  if ARGV[3] == 'retrying' then
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  else
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
  end
end
local fields = {}
for i = 6, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
if not owned then
  fields[#fields + 1] = 'superseded'
  fields[#fields + 1] = '1'
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
if owned then
  return 1
end
return 0
