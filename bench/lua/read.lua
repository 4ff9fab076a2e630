-- Status read for wrk: the same GET over and over, with a bearer token when one is given.
--
--   wrk -s bench/lua/read.lua URL/v1/requests/ID -- TOKEN   (countersign)
--   wrk -s bench/lua/read.lua URL/confirm/ID                (Hermes; nginx: any path)

function init(args)
  if args[1] ~= nil and args[1] ~= "" and args[1] ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
end
