-- Uncached read for wrk: every GET /v1/requests/{id} names a request picked at random from a
-- file of ids (one a line, e.g. the ids.sample bench/gen_scale_store.py writes), so the server
-- reads a different, mostly old, request each time instead of one it just served.
--
--   wrk -s bench/lua/read_many.lua URL -- TOKEN IDS_FILE

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  local token, ids_file = args[1], args[2]
  local file = io.open(ids_file or "", "r")
  if not file then error("read_many.lua: cannot open " .. tostring(ids_file)) end
  ids = {}
  for id in file:lines() do table.insert(ids, id) end
  file:close()
  if #ids == 0 then error("read_many.lua: no ids in " .. ids_file) end
  headers = { ["Authorization"] = "Bearer " .. token }
  math.randomseed(os.time() * 1000 + thread_number)
end

function request()
  return wrk.format("GET", "/v1/requests/" .. ids[math.random(#ids)], headers)
end
