-- A page of a queue nearest the hold thresholds first (uncertain.lua is prepended). Reads only.
-- KEYS: the queue's spam index, its abuse index
-- ARGV: key prefix, spam hold, abuse hold (millionths), cursor distance and id ('' for none), count,
--       scan limit
-- Returns {id, distance, id, distance, ..., stopped distance, stopped id}: the last two are '' unless the
-- scan limit ended the page early, when they are where it got to.
local after_d = nil
if ARGV[4] ~= '' then
  after_d = tonumber(ARGV[4])
end
local walk = uncertain_walk(KEYS[1], KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[3]), after_d, ARGV[5], ARGV[1],
  tonumber(ARGV[7]))
local found = {}
local count = tonumber(ARGV[6])
while #found < 2 * count do
  local id, distance = walk.next()
  if not id then break end
  found[#found + 1] = id
  found[#found + 1] = tostring(distance)
end
if walk.stopped and walk.last then
  found[#found + 1] = tostring(walk.last[1])
  found[#found + 1] = walk.last[2]
else
  found[#found + 1] = ''
  found[#found + 1] = ''
end
return found
