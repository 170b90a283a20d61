-- Remove an author's name, email, website and network data from every comment; decisions stay.
-- KEYS: author_comments, author, events
-- ARGV: key prefix, timestamp, events maxlen, replacement name, admin, author key
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'comment:' .. id
  redis.call('HSET', key, 'name', ARGV[4], 'email', '', 'website', '', 'ip', '', 'user_agent', '', 'referer', '',
    'erased', '1')
  history_add(key, {'event', 'erased', 'actor', ARGV[5], 'at', ARGV[2]})
end
-- Moderators' notes are about the person: gone. The standing stays, keyed by a hash that only the
-- service's secret ties to an address, so an erased troll who comes back with the same address is
-- still refused; its free text (reason, message, the notes in its history) may name them, so it goes.
local identity = redis.call('HGET', KEYS[2], 'identity') or ARGV[6]
redis.call('DEL', ARGV[1] .. 'notes:' .. identity)
local standing = ARGV[1] .. 'standing:' .. identity
if redis.call('EXISTS', standing) == 1 then
  local kept = {}
  for line in string.gmatch(redis.call('HGET', standing, 'history') or '', '[^\n]+') do
    local event = cjson.decode(line)
    event['reason'], event['message'], event['note'] = nil, nil, nil
    kept[#kept + 1] = cjson.encode(event)
  end
  redis.call('HSET', standing, 'reason', ARGV[4], 'message', '', 'history', table.concat(kept, '\n'))
end
redis.call('HSET', KEYS[2], 'erased_at', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'event', 'author_erased', 'actor', ARGV[5], 'at', ARGV[2],
  'count', tostring(#ids))
return #ids
