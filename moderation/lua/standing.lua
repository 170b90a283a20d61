-- Set an author's standing, and (reject_pending) reject every pending comment of theirs, in one step.
-- KEYS: standing, events, stats, queue:pending, queue:rejected, pending spam and abuse indexes, aliases
-- ARGV: key prefix, identity, author key, state, until (iso, '' = none), until ms, reason, message, note,
--       moderator, timestamp, now ms, expected version ('' = none), reject pending ('1' or ''),
--       events maxlen, rejection reason for the pending comments, networks to mark (JSON array), mark ttl s
local prefix, identity, author, state = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local moderator, at = ARGV[10], ARGV[11]
local current = redis.call('HMGET', KEYS[1], 'state', 'version', 'until')
local version = current[2] or '0'
if ARGV[13] ~= '' and ARGV[13] ~= version then
  return {'conflict', 'version'}
end
-- Without a version, asking for the standing the author already has is the second of two moderators
-- doing the same thing at once: they see the first one's change, as a second decision on a comment does.
if ARGV[13] == '' and current[1] == state and (current[3] or '') == ARGV[5] then
  return {'conflict', 'same'}
end

local previous = current[1]
if previous and previous ~= state then
  redis.call('ZREM', prefix .. 'standings:' .. previous, identity)
end
if state ~= 'normal' then
  redis.call('ZADD', prefix .. 'standings:' .. state, 0, identity)
end
local new_version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', state, 'until', ARGV[5], 'until_ms', ARGV[6], 'reason', ARGV[7],
  'message', ARGV[8], 'set_by', moderator, 'set_at', at, 'set_at_ms', ARGV[12], 'author_key', author)
local change = {'event', 'standing_changed', 'actor', moderator, 'at', at, 'state', state, 'until', ARGV[5],
  'reason', ARGV[7], 'message', ARGV[8], 'note', ARGV[9], 'previous', previous or 'normal'}
history_add(KEYS[1], change)

-- The networks the author posted from within the mark's lifetime: a new address there is held (linked_author).
if state == 'banned' or state == 'suspended' then
  for _, network in ipairs(cjson.decode(ARGV[17])) do
    redis.call('SET', prefix .. 'net:' .. network, identity .. '|' .. author, 'EX', tonumber(ARGV[18]))
  end
end

local rejected = 0
if ARGV[14] == '1' then
  local authors = redis.call('SMEMBERS', KEYS[8])
  authors[#authors + 1] = identity
  if author ~= identity then
    authors[#authors + 1] = author
  end
  local seen = {}
  for _, key in ipairs(authors) do
    if not seen[key] then
      seen[key] = true
      for _, id in ipairs(redis.call('ZRANGE', prefix .. 'author:' .. key .. ':comments', 0, -1)) do
        local comment = prefix .. 'comment:' .. id
        local c = redis.call('HMGET', comment, 'status', 'spam', 'abuse', 'model_version')
        if c[1] == 'pending' and redis.call('ZSCORE', KEYS[4], id) then
          -- As decide.lua rejects a pending comment (a ban overrides another moderator's lease).
          redis.call('ZREM', KEYS[4], id)
          index_remove(KEYS[6], KEYS[7], id, c[2], c[3])
          redis.call('ZADD', KEYS[5], 0, id)
          redis.call('HINCRBY', prefix .. 'author:' .. key, 'rejected', 1)
          redis.call('HINCRBY', comment, 'version', 1)
          redis.call('HSET', comment, 'status', 'rejected', 'decided_by', moderator, 'decided_at', at,
            'decision', 'reject', 'decision_reason', ARGV[16], 'decision_note', ARGV[7],
            'claimed_by', '', 'claim_expires', '0')
          local entry = {'event', 'decided', 'actor', moderator, 'at', at, 'action', 'reject',
            'reason', ARGV[16], 'note', ARGV[7], 'status', 'rejected', 'spam', c[2] or '', 'abuse', c[3] or '',
            'model_version', c[4] or '', 'standing', state}
          history_add(comment, entry)
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[15], '*', 'comment_id', id, unpack(entry))
          redis.call('HINCRBY', KEYS[3], 'human:reject:' .. ARGV[16], 1)
          redis.call('HINCRBY', KEYS[3], 'model:' .. (c[4] or '') .. ':human:reject', 1)
          rejected = rejected + 1
        end
      end
    end
  end
end

redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[15], '*', 'author_key', author, 'event', 'standing_changed',
  'actor', moderator, 'at', at, 'state', state, 'until', ARGV[5], 'reason', ARGV[7], 'message', ARGV[8],
  'previous', previous or 'normal', 'rejected_pending', tostring(rejected))
redis.call('HINCRBY', KEYS[3], 'standing:' .. state, 1)
-- The transparency report counts suspensions and bans (DSA Art. 24(1)(b) asks for suspensions).
redis.call('HINCRBY', prefix .. 'dsa:' .. string.sub(at, 1, 10), 'standing:' .. state, 1)
return {'ok', tostring(new_version), tostring(rejected)}
