-- Decide for wrk: approves pre-created pending requests, each exactly once. The ids come
-- from a file (one a line, written by `cs_load create`); thread k of N takes lines k, k+N, ...
--
--   wrk -t N -s bench/lua/decide.lua URL -- countersign IDS_FILE N APPROVER_TOKEN
--                                                        (POST /v1/requests/{id}/decisions)
--   wrk -t N -s bench/lua/decide.lua URL -- hermes IDS_FILE N   (POST /confirm/{id}/approve)
--
-- When a thread runs out of ids it stops itself (wrk then reports a shorter run; bench/run
-- warns about it) rather than deciding a request twice.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  peer, ids_file, thread_count, token = args[1], args[2], tonumber(args[3]), args[4]
  if peer ~= "countersign" and peer ~= "hermes" then
    error("decide.lua: first argument must be countersign or hermes, got " .. tostring(peer))
  end
  local file = io.open(ids_file, "r")
  if not file then error("decide.lua: cannot open " .. tostring(ids_file)) end
  ids = {}
  local line_number = 0
  for id in file:lines() do
    if (line_number % thread_count) + 1 == thread_number then table.insert(ids, id) end
    line_number = line_number + 1
  end
  file:close()
  next_id = 1
  headers = { ["Content-Type"] = "application/json" }
  if peer == "countersign" then
    headers["Authorization"] = "Bearer " .. token
    body = '{"choice":"approve","comment":"bench"}'
  else
    body = '{"approver":"bench-approver"}'
  end
end

function request()
  local id = ids[next_id]
  if id == nil then
    wrk.thread:stop()
    -- Something must be returned; a harmless read the run is about to discard.
    return wrk.format("GET", peer == "countersign" and "/healthz" or "/health")
  end
  next_id = next_id + 1
  if peer == "countersign" then
    return wrk.format("POST", "/v1/requests/" .. id .. "/decisions", headers, body)
  end
  return wrk.format("POST", "/confirm/" .. id .. "/approve", headers, body)
end
