-- Lease due webhook delivery jobs to one worker. A leased job's score moves to the lease's end, so
-- no other worker sees it as due until then; a worker that dies mid-delivery just lets the lease
-- run out and another worker makes the attempt again. The attempt counter goes up here, at the
-- claim, so an attempt cut short by a crash still counts towards the limit.
-- KEYS: due zset, jobs hash, attempts hash
-- ARGV: now ms, lease end ms, limit
-- Returns: flat list of job id, job JSON, attempt number
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[2], id)
  if job then
    local attempt = redis.call('HINCRBY', KEYS[3], id, 1)
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = id
    out[#out + 1] = job
    out[#out + 1] = tostring(attempt)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[3], id)
  end
end
return out
