-- Drop comments the machine rejected that were made before the cutoff, with every index entry.
-- A moderator's rejection is kept (learning needs its label), as is any comment back in a queue.
-- KEYS: queue:rejected, index of all comments, queue:pending, queue:reported
-- ARGV: key prefix, id prefix of the cutoff time, batch size, id to go on after ('' = from the start)
local prefix = ARGV[1]
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[4] ~= '' and ('(' .. ARGV[4]) or '-', '(' .. ARGV[2],
  'LIMIT', 0, tonumber(ARGV[3]))
local dropped = 0
for _, id in ipairs(ids) do
  local key = prefix .. 'comment:' .. id
  local c = redis.call('HMGET', key, 'status', 'decided_by', 'author_key')
  if c[1] == false then
    redis.call('ZREM', KEYS[1], id)
  elseif c[1] == 'rejected' and (c[2] == false or c[2] == '')
      and not redis.call('ZSCORE', KEYS[3], id) and not redis.call('ZSCORE', KEYS[4], id) then
    redis.call('DEL', key, prefix .. 'audit:' .. id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', prefix .. 'author:' .. c[3] .. ':comments', id)
    dropped = dropped + 1
  end
end
return {dropped, ids[#ids] or ''}
