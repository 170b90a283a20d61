-- A comment's history lives in its own hash, in the field 'history': one JSON object per event, a line
-- each. A stream per comment cost about 4.8 KB for a single event; a line costs its own length.
local function history_add(comment_key, entry)
  local event = {}
  for i = 1, #entry, 2 do
    event[entry[i]] = entry[i + 1]
  end
  local line = cjson.encode(event)
  local earlier = redis.call('HGET', comment_key, 'history')
  if earlier and earlier ~= '' then
    line = earlier .. '\n' .. line
  end
  redis.call('HSET', comment_key, 'history', line)
end
