-- Remove an author's name, email, website and network data from every comment; decisions stay.
-- KEYS: author_comments, author, events
-- ARGV: key prefix, timestamp, events maxlen, replacement name, admin
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'comment:' .. id
  redis.call('HSET', key, 'name', ARGV[4], 'email', '', 'website', '', 'ip', '', 'user_agent', '', 'referer', '',
    'erased', '1')
  history_add(key, {'event', 'erased', 'actor', ARGV[5], 'at', ARGV[2]})
end
redis.call('HSET', KEYS[2], 'erased_at', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'event', 'author_erased', 'actor', ARGV[5], 'at', ARGV[2],
  'count', tostring(#ids))
return #ids
