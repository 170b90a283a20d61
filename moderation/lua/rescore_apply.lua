-- Store new scores for a batch of comments and move those whose automatic decision changed.
-- A comment whose version moved since it was read (a moderator acted) is left alone, and a
-- human decision is never changed: those comments only get the new scores recorded.
-- KEYS: queue:pending, queue:rejected, events, stats, job hash, job leases, pending spam and abuse indexes,
--       queue:reported, reported spam and abuse indexes, the indexes' marker (queue_scores.lua)
-- ARGV: key prefix, model version, timestamp, events maxlen, lease range, then for each comment:
--       id, version read, spam, abuse, new status ('' = keep), reasons JSON, reason codes
local prefix, model, at = ARGV[1], ARGV[2], ARGV[3]
local counts = {rescored = 0, moved = 0, human = 0, raced = 0}
for i = 6, #ARGV, 7 do
  local id = ARGV[i]
  local key = prefix .. 'comment:' .. id
  local c = redis.call('HMGET', key, 'version', 'decided_by', 'status', 'article_id', 'spam', 'abuse')
  if c[1] ~= ARGV[i + 1] then
    counts.raced = counts.raced + 1
  else
    -- The claimable queues' score indexes follow the new scores.
    if redis.call('ZSCORE', KEYS[1], id) then
      index_remove(KEYS[7], KEYS[8], id, c[5], c[6])
    end
    if redis.call('ZSCORE', KEYS[9], id) then
      index_remove(KEYS[10], KEYS[11], id, c[5], c[6])
      index_add(KEYS[12], KEYS[10], KEYS[11], id, ARGV[i + 2], ARGV[i + 3])
    end
    redis.call('HSET', key, 'spam', ARGV[i + 2], 'abuse', ARGV[i + 3], 'model_version', model)
    counts.rescored = counts.rescored + 1
    local new_status = ARGV[i + 4]
    if c[2] and c[2] ~= '' then
      counts.human = counts.human + 1
    elseif new_status ~= '' and new_status ~= c[3] then
      local published = prefix .. 'article:' .. c[4] .. ':published'
      if c[3] == 'published' then redis.call('ZREM', published, id) end
      if c[3] == 'pending' then redis.call('ZREM', KEYS[1], id) end
      if c[3] == 'rejected' then redis.call('ZREM', KEYS[2], id) end
      if new_status == 'published' then redis.call('ZADD', published, 0, id) end
      if new_status == 'pending' then redis.call('ZADD', KEYS[1], 0, id) end
      if new_status == 'rejected' then redis.call('ZADD', KEYS[2], 0, id) end
      redis.call('HSET', key, 'status', new_status, 'reasons', ARGV[i + 5], 'reason_codes', ARGV[i + 6])
      redis.call('HINCRBY', key, 'version', 1)
      local entry = {'event', 'rescored', 'actor', 'system', 'at', at, 'from', c[3], 'status', new_status,
        'reasons', ARGV[i + 6], 'spam', ARGV[i + 2], 'abuse', ARGV[i + 3], 'model_version', model}
      history_add(key, entry)
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'comment_id', id, unpack(entry))
      redis.call('HINCRBY', KEYS[4], 'rescore:' .. c[3] .. '>' .. new_status, 1)
      counts.moved = counts.moved + 1
    end
    if redis.call('ZSCORE', KEYS[1], id) then
      index_add(KEYS[12], KEYS[7], KEYS[8], id, ARGV[i + 2], ARGV[i + 3])
    end
  end
end
for name, value in pairs(counts) do
  redis.call('HINCRBY', KEYS[5], name, value)
end
redis.call('ZREM', KEYS[6], ARGV[5])
return {counts.rescored, counts.moved, counts.human, counts.raced}
