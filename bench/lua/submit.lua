-- Durable submit for wrk: every request creates a new pending request with its own action,
-- so nothing is deduplicated and the Hermes peer's per-action rate limit never bites.
--
--   wrk -s bench/lua/submit.lua URL -- countersign TOKEN TAG     (POST /v1/requests)
--   wrk -s bench/lua/submit.lua URL -- hermes - TAG              (POST /confirm)
--
-- TAG makes the actions of one run distinct from every other run's.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  peer, token, tag = args[1], args[2], args[3] or "run"
  if peer ~= "countersign" and peer ~= "hermes" then
    error("submit.lua: first argument must be countersign or hermes, got " .. tostring(peer))
  end
  headers = { ["Content-Type"] = "application/json" }
  if peer == "countersign" then
    headers["Authorization"] = "Bearer " .. token
    path = "/v1/requests"
  else
    path = "/confirm"
  end
  counter = 0
end

function request()
  counter = counter + 1
  local action = string.format("bench.submit.%s.%d.%d", tag, thread_number, counter)
  local body
  if peer == "countersign" then
    body = string.format(
      '{"action":"%s","title":"Deploy build %d","arguments":{"ref":"v%d"},"timeout_seconds":3600}',
      action, counter, counter)
  else
    body = string.format(
      '{"action":"%s","description":"Deploy build %d","details":{"ref":"v%d"},"timeout_seconds":3600}',
      action, counter, counter)
  end
  return wrk.format("POST", path, headers, body)
end
