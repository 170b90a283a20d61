-- wrk -s bench/wrk/coral_phase.lua http://127.0.0.1:PORT -- REQUESTS_FILE
-- Posts Coral external moderation requests written by bench/coral_phase.py, each already serialised and signed
-- as Coral sends it. The file holds, per request, a line with X-Coral-Signature, a line with the body's length
-- in bytes, then the body (pretty-printed JSON, so it has newlines of its own).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local requests = {}
local next_request = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  while true do
    local signature = file:read("l")
    if not signature or signature == "" then
      break
    end
    local length = tonumber(file:read("l"))
    local body = file:read(length)
    table.insert(requests, wrk.format("POST", "/v1/coral/moderation-phase", {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = "Coral Moderation/9.0.0",
      ["X-Coral-Signature"] = signature,
    }, body))
  end
  file:close()
  next_request = math.random(#requests) - 1
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

done = common.done
