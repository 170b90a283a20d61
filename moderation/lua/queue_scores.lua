-- Shared by the scripts that put comments in a claimable queue (pending, reported) or take them out:
-- each such queue keeps, per head, an index of members '<score in millionths, 7 digits>:<id>', all at
-- score 0, so that lexical order is (score, id) and uncertain.lua can walk out from any threshold.
-- Prepended to submit.lua, decide.lua, report.lua, rescore_apply.lua and queue_scores_build.lua.
local function score_member(score, id)
  return string.format('%07d', math.floor((tonumber(score) or 0) * 1000000 + 0.5)) .. ':' .. id
end

local function index_put(spam_key, abuse_key, id, spam, abuse)
  redis.call('ZADD', spam_key, 0, score_member(spam, id))
  redis.call('ZADD', abuse_key, 0, score_member(abuse, id))
end

-- The indexes are kept only once the site has asked for sort=uncertain (the marker key exists): until
-- then a queued comment costs no index entries. CommentStore.ensure_queue_scores sets the marker
-- before it indexes what is already queued, so nothing queued meanwhile is missed.
local function index_add(marker_key, spam_key, abuse_key, id, spam, abuse)
  if redis.call('EXISTS', marker_key) == 1 then
    index_put(spam_key, abuse_key, id, spam, abuse)
  end
end

local function index_remove(spam_key, abuse_key, id, spam, abuse)
  redis.call('ZREM', spam_key, score_member(spam, id))
  redis.call('ZREM', abuse_key, score_member(abuse, id))
end
