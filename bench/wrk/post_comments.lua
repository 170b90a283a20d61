-- wrk -s bench/wrk/post_comments.lua http://127.0.0.1:PORT -- [SEED]
-- Posts varied, realistic reader comments to /v1/comments, the same way to the service and the
-- reference app: many authors (name, email), 2-6 sentence bodies built from bench/wrk/phrases.txt,
-- a few spam and abusive ones, articles with a few hot stories, and about one in ten a reply to a
-- comment this thread posted before (so the service's parent check runs).
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

function init(args)
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
  if #posted > 0 and random() < 0.1 then
    local earlier = posted[random(#posted)]
    article_id = earlier[2]
    parent = ',"parent_id":"' .. earlier[1] .. '"'
  end
  local payload = '{"article_id":"' .. article_id .. '","name":' .. json_string(first_name .. " " .. last_name) ..
    ',"email":"' .. email .. '","body":' .. json_string(body()) .. parent .. '}'
  return wrk.format("POST", "/v1/comments", {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["User-Agent"] = pick(pools.user_agents),
    ["Referer"] = "https://news.example/articles/" .. article_id,
  }, payload)
end

function response(status, headers, body)
  if status == 201 then
    local comment_id = body:match('"id":%s*"(%w+)"')
    local article_id = body:match('"article_id":%s*"([^"]+)"')
    if comment_id and article_id then
      posted[posted_next] = { comment_id, article_id }
      posted_next = posted_next % posted_size + 1
    end
  end
end

done = common.done
