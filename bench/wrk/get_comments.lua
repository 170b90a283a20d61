-- wrk -s bench/wrk/get_comments.lua http://127.0.0.1:PORT -- ARTICLE_ID
-- Reads one article's published comments, as an article page does; the same request to both apps.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local path = "/v1/articles/bench-article/comments"

function init(args)
  if args[1] then
    path = "/v1/articles/" .. args[1] .. "/comments"
  end
end

function request()
  return wrk.format("GET", path, { ["Accept"] = "application/json" })
end

done = common.done
