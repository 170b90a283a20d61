-- Read the fields a rescore needs for a batch of comments, in one reply.
-- One script call in place of one HMGET per comment: a pipelined batch spends more time
-- packing and parsing 2,000 commands than Redis spends answering them.
-- KEYS: the all-comments index (unread: it routes the call to the comments' slot in a cluster)
-- ARGV: key prefix, number of fields, the field names, then the comment ids
-- Returns the values of every comment in order, flat (a missing comment gives only false values).
local prefix, width = ARGV[1], tonumber(ARGV[2])
local fields = {}
for f = 1, width do fields[f] = ARGV[2 + f] end
local out = {}
for i = 3 + width, #ARGV do
  local values = redis.call('HMGET', prefix .. 'comment:' .. ARGV[i], unpack(fields))
  for f = 1, width do out[#out + 1] = values[f] end
end
return out
