-- wrk script for bench/serve.sh: every request a new reservation (unique request
-- and customer ids per thread and request) of one unit on the hot pool.
-- CONFIRM_EVERY=N (bench/notify.sh) confirms every Nth directly instead of holding it.
local counter = 0
local confirm_every = tonumber(os.getenv("CONFIRM_EVERY") or "0")
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
end

function request()
  counter = counter + 1
  local rid = "w" .. thread_id .. "-" .. counter
  local confirm = ""
  if confirm_every > 0 and counter % confirm_every == 0 then confirm = ',"confirm":true' end
  local body = '{"request_id":"' .. rid .. '","customer":"' .. rid .. '","lines":[{"offer":"seat","quantity":1}]' .. confirm .. '}'
  return wrk.format("POST", "/v1/ledgers/hot/reserve", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("KONTINGENT_CLIENT_KEY"),
  }, body)
end

function response(status, headers, body)
  if status ~= 200 or not (string.find(body, '"held"', 1, true) or string.find(body, '"confirmed"', 1, true)) then
    print("unexpected answer " .. status .. ": " .. body)
    wrk.thread:stop()
  end
end
