-- Lease up to `limit` unclaimed items of one queue to a moderator; an expired lease counts as free.
-- KEYS: queue, events
-- ARGV: key prefix, moderator, limit, lease ms, now ms, scan limit, events maxlen, audit timestamp
local prefix, moderator = ARGV[1], ARGV[2]
local limit, lease, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local scan_limit = tonumber(ARGV[6])
local expires = now + lease
local claimed = {}
local offset = 0
while #claimed < limit and offset < scan_limit do
  local ids = redis.call('ZRANGE', KEYS[1], offset, offset + 99)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local key = prefix .. 'comment:' .. id
    local holder = redis.call('HMGET', key, 'claimed_by', 'claim_expires')
    local free = holder[1] == false or holder[1] == '' or holder[1] == moderator
      or tonumber(holder[2] or '0') <= now
    if free then
      redis.call('HSET', key, 'claimed_by', moderator, 'claim_expires', expires)
      local entry = {'event', 'claimed', 'actor', moderator, 'at', ARGV[8], 'lease_expires_ms', tostring(expires)}
      redis.call('XADD', prefix .. 'audit:' .. id, '*', unpack(entry))
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'comment_id', id, unpack(entry))
      claimed[#claimed + 1] = id
      if #claimed >= limit then break end
    end
  end
  offset = offset + 100
end
return claimed
