-- wrk -s bench/wrk/post_comments.lua http://127.0.0.1:PORT -- [SEED] [isso]
-- Posts varied, realistic reader comments to /v1/comments, the same way to the service and the
-- reference app: many authors (name, email), 2-6 sentence bodies built from bench/wrk/phrases.txt,
-- a few spam and abusive ones, articles with a few hot stories, and about one in ten a reply to a
-- comment this thread posted before (so the service's parent check runs).
-- With `isso` after the seed, the same comments go to Isso's own route as its widget posts them:
-- POST /new?uri=/articles/ID with text, author, email, the thread's title and the parent's number.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local pools = {}

local function load_pools(path)
  local section = nil
  for line in io.lines(path) do
    local name = line:match("^%[(.+)%]$")
    if name then
      section = name
      pools[section] = {}
    elseif section and line ~= "" and not line:match("^#") then
      table.insert(pools[section], line)
    end
  end
end

local random = math.random

local function pick(pool)
  return pool[random(#pool)]
end

local function fill(sentence)
  return (sentence:gsub("{(%w+)}", function(slot)
    if slot == "topic" then return pick(pools.topics) end
    if slot == "person" then return pick(pools.people) end
    if slot == "place" then return pick(pools.places) end
    if slot == "number" then return tostring(random(2, 95)) end
    if slot == "year" then return tostring(random(2009, 2025)) end
    return slot
  end))
end

local function capitalise(text)
  return (text:gsub("^%l", string.upper))
end

local function body()
  local roll = random()
  if roll < 0.03 then
    return fill(pick(pools.spam))
  end
  local parts = {}
  if roll < 0.05 then
    table.insert(parts, fill(pick(pools.abuse)))
  elseif random() < 0.6 then
    table.insert(parts, pick(pools.openers))
  end
  local claims = 1
  local size = random()
  if size > 0.3 then claims = 2 end
  if size > 0.7 then claims = 3 end
  if size > 0.9 then claims = 4 end
  if #parts == 0 and claims == 1 then claims = 2 end
  for _ = 1, claims do
    table.insert(parts, capitalise(fill(pick(pools.claims))))
  end
  if random() < 0.4 then
    table.insert(parts, pick(pools.closers))
  end
  return table.concat(parts, " ")
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local function article()
  if random() < 0.3 then
    return "story-hot-" .. random(5)
  end
  return "story-" .. random(2000)
end

-- Comments this thread posted (id and article), to reply to.
local posted = {}
local posted_size = 256
local posted_next = 1

local isso = false
-- Isso's answer does not name the thread: the thread of each comment in flight is kept by the start
-- of its text, which Isso's answer repeats (rendered), so a reply goes to its parent's thread.
local in_flight = {}

local function opening(text)
  local start = text:match("^[%w ]+")
  return start and #start >= 12 and start:sub(1, 24) or nil
end

function init(args)
  isso = args[2] == "isso"
  load_pools(here .. "phrases.txt")
  local seed = tonumber(args[1] or "") or os.time()
  math.randomseed(seed * 7919 + (tonumber(id) or 0) * 104729)
  for _ = 1, 10 do random() end
end

function request()
  local first = pick(pools.first_names)
  local last = pick(pools.last_names)
  local first_name, first_ascii = first:match("^(.-)|(.*)$")
  local last_name, last_ascii = last:match("^(.-)|(.*)$")
  local email = first_ascii .. "." .. last_ascii .. random(99999) .. "@" .. pick(pools.domains)
  local article_id = article()
  local parent = ""
  local earlier = nil
  if #posted > 0 and random() < 0.1 then
    earlier = posted[random(#posted)]
    article_id = earlier[2]
    parent = ',"parent_id":"' .. earlier[1] .. '"'
  end
  local name = json_string(first_name .. " " .. last_name)
  local plain = body()
  local text = json_string(plain)
  if isso then
    local key = opening(plain)
    if key then in_flight[key] = article_id end
    -- The title lets Isso open a thread without fetching the article's page from the site.
    local payload = '{"text":' .. text .. ',"author":' .. name .. ',"email":"' .. email .. '","title":"' ..
      article_id .. '","parent":' .. (earlier and earlier[1] or "null") .. '}'
    return wrk.format("POST", "/new?uri=%2Farticles%2F" .. article_id, {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = pick(pools.user_agents),
      ["Referer"] = "https://news.example/articles/" .. article_id,
    }, payload)
  end
  local payload = '{"article_id":"' .. article_id .. '","name":' .. name ..
    ',"email":"' .. email .. '","body":' .. text .. parent .. '}'
  return wrk.format("POST", "/v1/comments", {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["User-Agent"] = pick(pools.user_agents),
    ["Referer"] = "https://news.example/articles/" .. article_id,
  }, payload)
end

function response(status, headers, body)
  if isso and (status == 201 or status == 202) then
    -- Isso answers 202 for a comment held for moderation; its ids are numbers, its thread is the uri.
    local comment_id = body:match('"id":%s*(%d+)')
    local key = opening(body:match('"text":%s*"<p>([^"]*)') or "")
    local article_id = key and in_flight[key]
    if comment_id and article_id then
      in_flight[key] = nil
      posted[posted_next] = { comment_id, article_id }
      posted_next = posted_next % posted_size + 1
    end
  elseif status == 201 then
    local comment_id = body:match('"id":%s*"(%w+)"')
    local article_id = body:match('"article_id":%s*"([^"]+)"')
    if comment_id and article_id then
      posted[posted_next] = { comment_id, article_id }
      posted_next = posted_next % posted_size + 1
    end
  end
end

done = common.done
