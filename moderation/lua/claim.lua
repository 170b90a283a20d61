-- Lease up to `limit` unclaimed items of one queue to a moderator; an expired lease counts as free.
-- Oldest first, or with sort 'uncertain' nearest the hold thresholds first (uncertain.lua is prepended).
-- KEYS: queue, events, the queue's spam index, its abuse index
-- ARGV: key prefix, moderator, limit, lease ms, now ms, scan limit, events maxlen, audit timestamp,
--       sort ('arrival' or 'uncertain'), spam hold, abuse hold (millionths; for 'uncertain')
local prefix, moderator = ARGV[1], ARGV[2]
local limit, lease, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local scan_limit = tonumber(ARGV[6])
local expires = now + lease
local claimed = {}

local function take(id)
  local key = prefix .. 'comment:' .. id
  local holder = redis.call('HMGET', key, 'claimed_by', 'claim_expires')
  local free = holder[1] == false or holder[1] == '' or holder[1] == moderator
    or tonumber(holder[2] or '0') <= now
  if free then
    redis.call('HSET', key, 'claimed_by', moderator, 'claim_expires', expires)
    local entry = {'event', 'claimed', 'actor', moderator, 'at', ARGV[8], 'lease_expires_ms', tostring(expires)}
    history_add(key, entry)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'comment_id', id, unpack(entry))
    claimed[#claimed + 1] = id
  end
end

if ARGV[9] == 'uncertain' then
  local walk = uncertain_walk(KEYS[3], KEYS[4], tonumber(ARGV[10]), tonumber(ARGV[11]), nil, nil, prefix, scan_limit)
  while #claimed < limit do
    local id = walk.next()
    if not id then break end
    -- The indexes change with the queue in the same scripts; this only guards against a stray entry.
    if redis.call('ZSCORE', KEYS[1], id) then
      take(id)
    end
  end
  return claimed
end

local offset = 0
while #claimed < limit and offset < scan_limit do
  local ids = redis.call('ZRANGE', KEYS[1], offset, offset + 99)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    take(id)
    if #claimed >= limit then break end
  end
  offset = offset + 100
end
return claimed
