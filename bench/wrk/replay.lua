-- wrk -s bench/wrk/replay.lua http://127.0.0.1:PORT -- REQUESTS_FILE
-- Replays prepared requests in turn, one a line: method, path, headers (joined by \x1f) and body, separated by
-- tabs (bench/dropin.py writes the file), so wrk sends what the steady-rate run sends.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local requests = {}
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local fields = {}
    for header in (headers .. "\31"):gmatch("([^\31]*)\31") do
      local name, value = header:match("^([^:]+):%s*(.*)$")
      if name then fields[name] = value end
    end
    table.insert(requests, wrk.format(method, path, fields, body))
  end
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end

done = common.done
