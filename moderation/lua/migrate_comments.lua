-- Bring comments stored by earlier versions to today's layout, each in one step: the events of its
-- own audit stream become the first lines of its history field and the stream goes, and a hash
-- Redis keeps as a hash table is written again, so that it takes the compact encoding the server's
-- settings now allow (redis_client.STORE_CONFIG). Safe to run again: a migrated comment is left as it is.
-- KEYS: index of all comments (read by the caller; given so that a cluster runs this on its node)
-- ARGV: key prefix, then comment ids
-- Returns how many histories moved and how many hashes became compact.
local prefix = ARGV[1]
local moved, compacted = 0, 0
for i = 2, #ARGV do
  local key = prefix .. 'comment:' .. ARGV[i]
  local audit = prefix .. 'audit:' .. ARGV[i]
  if redis.call('EXISTS', key) == 1 then
    local entries = redis.call('XRANGE', audit, '-', '+')
    if #entries > 0 then
      local lines = {}
      for _, entry in ipairs(entries) do
        local event, fields = {}, entry[2]
        for j = 1, #fields, 2 do
          event[fields[j]] = fields[j + 1]
        end
        lines[#lines + 1] = cjson.encode(event)
      end
      local later = redis.call('HGET', key, 'history')
      if later and later ~= '' then
        lines[#lines + 1] = later
      end
      redis.call('HSET', key, 'history', table.concat(lines, '\n'))
      moved = moved + 1
    end
    if redis.call('OBJECT', 'ENCODING', key) == 'hashtable' then
      local fields = redis.call('HGETALL', key)
      redis.call('DEL', key)
      redis.call('HSET', key, unpack(fields))
      if redis.call('OBJECT', 'ENCODING', key) ~= 'hashtable' then
        compacted = compacted + 1
      end
    end
  end
  redis.call('DEL', audit)
end
return {moved, compacted}
