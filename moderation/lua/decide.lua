-- Apply a moderator's decision; exactly one of two racing decisions on the same comment wins.
-- KEYS: comment, queue:pending, queue:reported, queue:rejected, queue:approved, article_published,
--       author, events, stats, pending spam and abuse indexes, reported spam and abuse indexes
-- ARGV: id, action (approve|reject), moderator, reason, note, expected version ('' = none),
--       now ms, timestamp, events maxlen, key prefix, author key, whether a rejection counts against the
--       author's record ('1' or ''), how long the record keeps a decision (ms), the ground (a term's code or
--       ''), the day's transparency counts key
local id, action, moderator = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'not_found'}
end
local c = redis.call('HMGET', KEYS[1], 'status', 'version', 'claimed_by', 'claim_expires',
  'decided_by', 'decision', 'spam', 'abuse', 'model_version')
local status, version = c[1], c[2]
if ARGV[6] ~= '' and ARGV[6] ~= version then
  return {'conflict', 'version'}
end
-- Open: no moderator has decided it yet (whatever the machine did), or it waits in a queue again.
local open = c[5] == false or c[5] == '' or redis.call('ZSCORE', KEYS[2], id) or redis.call('ZSCORE', KEYS[3], id)
if not open and ARGV[6] == '' then
  return {'conflict', 'decided'}
end
if c[3] and c[3] ~= '' and c[3] ~= moderator and tonumber(c[4] or '0') > tonumber(ARGV[7]) then
  return {'conflict', 'claimed'}
end

local previous = c[6]
if previous == 'approve' then
  redis.call('HINCRBY', KEYS[7], 'approved', -1)
elseif previous == 'reject' then
  redis.call('HINCRBY', KEYS[7], 'rejected', -1)
end
local new_status
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
index_remove(KEYS[10], KEYS[11], id, c[7], c[8])
index_remove(KEYS[12], KEYS[13], id, c[7], c[8])
if action == 'approve' then
  new_status = 'published'
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZADD', KEYS[5], 0, id)
  redis.call('ZADD', KEYS[6], 0, id)
  redis.call('HINCRBY', KEYS[7], 'approved', 1)
else
  new_status = 'rejected'
  redis.call('ZREM', KEYS[5], id)
  redis.call('ZREM', KEYS[6], id)
  redis.call('ZADD', KEYS[4], 0, id)
  redis.call('HINCRBY', KEYS[7], 'rejected', 1)
end
-- The author's record, for the reputation rule (moderation/authors/standing.py): kept under the identity
-- (the normalised address), with when a counted rejection last came and how many approvals since.
if ARGV[11] and ARGV[11] ~= '' then
  local identity = redis.call('HGET', KEYS[7], 'identity') or ARGV[11]
  local standing = ARGV[10] .. 'standing:' .. identity
  local approvals = ARGV[10] .. 'record:' .. identity .. ':approved'
  local rejections = ARGV[10] .. 'record:' .. identity .. ':rejected'
  local now, keep = tonumber(ARGV[7]), tonumber(ARGV[13])
  local was_counted = redis.call('ZREM', rejections, id) == 1
  redis.call('ZREM', approvals, id)
  if action == 'approve' then
    redis.call('ZADD', approvals, now, id)
    if was_counted then
      local last = redis.call('ZRANGE', rejections, -1, -1, 'WITHSCORES')
      if last[2] then
        redis.call('HSET', standing, 'last_rejected_ms', last[2])
      else
        redis.call('HDEL', standing, 'last_rejected_ms', 'approvals_since')
      end
    elseif redis.call('HEXISTS', standing, 'last_rejected_ms') == 1 then
      redis.call('HINCRBY', standing, 'approvals_since', 1)
    end
  elseif ARGV[12] == '1' then
    redis.call('ZADD', rejections, now, id)
    redis.call('HSET', standing, 'last_rejected_ms', ARGV[7], 'approvals_since', 0)
  end
  for _, record in ipairs({approvals, rejections}) do
    redis.call('ZREMRANGEBYSCORE', record, '-inf', now - keep)
    redis.call('PEXPIRE', record, keep)
  end
end

local new_version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'status', new_status, 'decided_by', moderator, 'decided_at', ARGV[8],
  'decision', action, 'decision_reason', ARGV[4], 'decision_note', ARGV[5], 'decision_ground', ARGV[14] or '',
  'claimed_by', '', 'claim_expires', '0')
-- The transparency report's counts (DSA Art. 15(1)(c)): restrictions by a person, and whether automated
-- means had flagged the comment first (it carries the reasons it was held for).
if ARGV[15] and ARGV[15] ~= '' then
  if action == 'reject' then
    redis.call('HINCRBY', ARGV[15], 'restricted:human:' .. (ARGV[4] ~= '' and ARGV[4] or 'other'), 1)
    local flagged = redis.call('HGET', KEYS[1], 'reason_codes')
    redis.call('HINCRBY', ARGV[15], (flagged and flagged ~= '') and 'detected:automated' or 'detected:other', 1)
  elseif previous == 'reject' then
    redis.call('HINCRBY', ARGV[15], 'reversed', 1)
  end
end
redis.call('HDEL', KEYS[1], 'open_reports')

local entry = {'event', 'decided', 'actor', moderator, 'at', ARGV[8], 'action', action,
  'reason', ARGV[4], 'note', ARGV[5], 'status', new_status, 'spam', c[7] or '', 'abuse', c[8] or '',
  'model_version', c[9] or ''}
history_add(KEYS[1], entry)
redis.call('XADD', KEYS[8], 'MAXLEN', '~', ARGV[9], '*', 'comment_id', id, unpack(entry))
local label = action
if action == 'reject' and ARGV[4] ~= '' then
  label = action .. ':' .. ARGV[4]
end
redis.call('HINCRBY', KEYS[9], 'human:' .. label, 1)
redis.call('HINCRBY', KEYS[9], 'model:' .. (c[9] or '') .. ':human:' .. action, 1)
return {'ok', tostring(new_version), new_status}
