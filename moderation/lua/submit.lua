-- Store a new comment with the first line of its history, its list and queue entries, author index,
-- events and stats in one step.
-- KEYS: comment, article_published, queue (unused when ARGV[7] is ''), author_comments,
--       events, idempotency, parent comment, stats, author's copy of this text,
--       authors of this text, index of all comments, the author's recent articles,
--       pending spam and abuse indexes, the indexes' marker (queue_scores.lua), author, identity's aliases,
--       the day's transparency counts
-- ARGV: id, article_id, parent_id, idempotency fingerprint ('' = no key), idempotency ttl,
--       status, queue name, audit entry (JSON object), stats fields (JSON array), events maxlen,
--       duplicate window seconds, author key, created ms, comment fields (JSON array of field, value, ...),
--       burst window ms, spam, abuse, identity ('' when the author key is its own identity),
--       transparency counts to add (JSON array)
local id = ARGV[1]
local fingerprint = ARGV[4]
if fingerprint ~= '' then
  local seen = redis.call('GET', KEYS[6])
  if seen then
    local sep = string.find(seen, '|', 1, true)
    return {'duplicate', string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)}
  end
end
if ARGV[3] ~= '' then
  local parent_article = redis.call('HGET', KEYS[7], 'article_id')
  if parent_article ~= ARGV[2] then
    return {'no_parent'}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end

redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[14])))
if ARGV[6] == 'published' then
  redis.call('ZADD', KEYS[2], 0, id)
end
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[3], 0, id)
  if ARGV[7] == 'pending' then
    index_add(KEYS[15], KEYS[13], KEYS[14], id, ARGV[16], ARGV[17])
  end
end
redis.call('ZADD', KEYS[4], 0, id)
redis.call('ZADD', KEYS[11], 0, id)

local entry = {}
for k, v in pairs(cjson.decode(ARGV[8])) do
  entry[#entry + 1] = k
  entry[#entry + 1] = tostring(v)
end
history_add(KEYS[1], entry)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', 'comment_id', id, unpack(entry))
for _, field in ipairs(cjson.decode(ARGV[9])) do
  redis.call('HINCRBY', KEYS[8], field, 1)
end
if ARGV[19] and ARGV[19] ~= '[]' then
  for _, field in ipairs(cjson.decode(ARGV[19])) do
    redis.call('HINCRBY', KEYS[18], field, 1)
  end
end
-- Remember the text for the duplicate rules, and when the network data must be purged.
local window = tonumber(ARGV[11])
redis.call('SET', KEYS[9], id, 'EX', window)
redis.call('SADD', KEYS[10], ARGV[12])
redis.call('EXPIRE', KEYS[10], window)
-- The articles this author commented on within the burst window, and no older: the burst rule's count.
local burst = tonumber(ARGV[15])
redis.call('ZADD', KEYS[12], tonumber(ARGV[13]), ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', tonumber(ARGV[13]) - burst)
redis.call('PEXPIRE', KEYS[12], burst)
-- An address that normalises to another (a gmail alias) is tied to it, for its standing and record.
if ARGV[18] and ARGV[18] ~= '' then
  redis.call('HSET', KEYS[16], 'identity', ARGV[18])
  redis.call('SADD', KEYS[17], ARGV[12])
end
if fingerprint ~= '' then
  redis.call('SET', KEYS[6], id .. '|' .. fingerprint, 'EX', tonumber(ARGV[5]))
end
return {'ok', id}
