-- wrk script for gridhub's read-path benchmark: POSTs GraphQL request bodies to /graphql,
-- rotating through the list in the file named by BENCH_BODIES (a Lua chunk returning a list of
-- JSON strings), and counts non-2xx responses and responses carrying GraphQL `errors`. Extra
-- request headers come from BENCH_HEADERS, as `Name=value` pairs separated by `;`.
-- done() prints one line `BENCH {json}` with requests, duration, percentiles, error counts and
-- bytes received.

local bodies = dofile(os.getenv("BENCH_BODIES"))
local headers = { ["Content-Type"] = "application/json" }
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^=;]+)=([^;]*)") do
  headers[name] = value
end
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("start", next_id * 7919)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  n = start or 0
  non2xx = 0
  gql_errors = 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/graphql", headers, bodies[n % #bodies + 1])
end

function response(status, hdrs, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, gql_total = 0, 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    gql_total = gql_total + (thread:get("gql_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"non2xx":%d,"graphql_errors":%d,"socket_errors":%d,"bytes":%d}\n',
    summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    non2xx_total, gql_total, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
