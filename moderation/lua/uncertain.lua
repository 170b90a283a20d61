-- A queue's items nearest the policy's hold thresholds first: shared by claim.lua and queue_uncertain.lua,
-- which it is prepended to. An item's distance is the nearer of |spam - spam_hold| and
-- |abuse - abuse_hold|, in millionths; items come in (distance, id) order, so ties go oldest first.
--
-- Each head's index (queue_scores.lua: members '<score 7 digits>:<id>' in lexical order) is read as
-- two streams leading away from that head's threshold: upwards (scores at or above it, ascending) and
-- downwards (scores below it, descending; each group of equal scores read ascending by id). Every
-- stream is in (distance, id) order, and the four are merged. An item appears once per head; it is
-- served from the stream where it is nearest, so the cost is the items served plus those passed over,
-- never the length of the queue.
local UNIT_DIGITS = 7
-- Each stream reads a few entries first (a claim of ten needs little more) and twice as many each time after.
local FIRST_BATCH, MAX_BATCH = 16, 256

local function pad(n)
  return string.format('%07d', n)
end

local function millionths(value)
  return math.floor((tonumber(value) or 0) * 1000000 + 0.5)
end

local function parse_member(member)
  return tonumber(string.sub(member, 1, UNIT_DIGITS)), string.sub(member, UNIT_DIGITS + 2)
end

-- Scores at or above `hold`, from (after_d, after_id) when given.
local function upward(key, hold, after_d, after_id)
  local start = '[' .. pad(hold)
  if after_d then
    start = '(' .. pad(hold + after_d) .. ':' .. after_id
  end
  return {up = true, key = key, hold = hold, start = start, buf = {}, pos = 1, done = false, batch = FIRST_BATCH}
end

-- Scores below `hold`, from (after_d, after_id) when given.
local function downward(key, hold, after_d, after_id)
  local s = {up = false, key = key, hold = hold, below = hold, buf = {}, pos = 1, done = false, batch = FIRST_BATCH}
  if after_d and after_d > 0 then
    if hold - after_d < 0 then
      s.done = true
    else
      -- Finish the cursor's group after its id, then go on below it.
      s.group, s.after, s.below = hold - after_d, after_id, hold - after_d
    end
  end
  return s
end

local function fill_up(s)
  local members = redis.call('ZRANGEBYLEX', s.key, s.start, '+', 'LIMIT', 0, s.batch)
  for _, member in ipairs(members) do
    local score, id = parse_member(member)
    s.buf[#s.buf + 1] = {score - s.hold, id}
  end
  if #members < s.batch then
    s.done = true
  else
    s.start = '(' .. members[#members]
  end
end

local function fill_down(s)
  while #s.buf == 0 and not s.done do
    if s.group then
      -- One group of equal scores, ascending by id: a page of it, after the last id read.
      local low = s.after and ('(' .. pad(s.group) .. ':' .. s.after) or ('[' .. pad(s.group) .. ':')
      local members = redis.call('ZRANGEBYLEX', s.key, low, '(' .. pad(s.group) .. ';', 'LIMIT', 0, s.batch)
      for _, member in ipairs(members) do
        local _, id = parse_member(member)
        s.buf[#s.buf + 1] = {s.hold - s.group, id}
      end
      if #members < s.batch then
        s.group, s.after = nil, nil
      else
        s.after = members[#members]:sub(UNIT_DIGITS + 2)
      end
    else
      -- The next scores down: every group but the last of a full page is whole, and is reversed
      -- into ascending id order; the last one may go on past the page, so it is read as a group.
      local members = redis.call('ZREVRANGEBYLEX', s.key, '(' .. pad(s.below) .. ':', '-', 'LIMIT', 0, s.batch)
      if #members == 0 then
        s.done = true
        return
      end
      local full = #members == s.batch
      local last_score = parse_member(members[#members])
      local i = 1
      while i <= #members do
        local score = parse_member(members[i])
        local j = i
        while j < #members and parse_member(members[j + 1]) == score do
          j = j + 1
        end
        if full and score == last_score then
          s.group, s.after = score, nil
          break
        end
        for k = j, i, -1 do
          local _, id = parse_member(members[k])
          s.buf[#s.buf + 1] = {s.hold - score, id}
        end
        i = j + 1
      end
      s.below = last_score
    end
  end
end

local function head_of(s)
  if s.pos > #s.buf then
    if s.done then
      return nil
    end
    s.buf, s.pos = {}, 1
    if s.up then fill_up(s) else fill_down(s) end
    s.batch = math.min(2 * s.batch, MAX_BATCH)
    if s.pos > #s.buf then
      return nil
    end
  end
  return s.buf[s.pos]
end

local function before(a, b)
  return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
end

-- An iterator over a queue's items in uncertain order, after (after_d, after_id) when given: each call
-- returns the next id and its distance, or nil when the queue is done or `scan_limit` entries were
-- passed. `walk.last` is then the last entry looked at: a cursor to go on from.
local function uncertain_walk(spam_key, abuse_key, spam_hold, abuse_hold, after_d, after_id, prefix, scan_limit)
  local streams = {
    upward(spam_key, spam_hold, after_d, after_id), downward(spam_key, spam_hold, after_d, after_id),
    upward(abuse_key, abuse_hold, after_d, after_id), downward(abuse_key, abuse_hold, after_d, after_id),
  }
  local seen = {}
  local walk = {scanned = 0, last = nil, stopped = false}
  function walk.next()
    while walk.scanned < scan_limit do
      local best, from = nil, nil
      for _, s in ipairs(streams) do
        local entry = head_of(s)
        if entry and (best == nil or before(entry, best)) then
          best, from = entry, s
        end
      end
      if best == nil then
        return nil
      end
      from.pos = from.pos + 1
      walk.scanned = walk.scanned + 1
      walk.last = best
      local id, distance = best[2], best[1]
      if not seen[id] then
        local scores = redis.call('HMGET', prefix .. 'comment:' .. id, 'spam', 'abuse')
        if scores[1] then
          local nearest = math.min(math.abs(millionths(scores[1]) - spam_hold),
                                   math.abs(millionths(scores[2]) - abuse_hold))
          -- Served from the stream where it is nearest; elsewhere it was, or will be, passed over.
          if nearest == distance then
            seen[id] = true
            return id, distance
          end
        end
      end
    end
    walk.stopped = true
    return nil
  end
  return walk
end
