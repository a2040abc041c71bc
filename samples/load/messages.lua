-- wrk script: POST /api/v1/workspaces/support/conversations/{id}/messages, each request a fresh message id,
-- the conversations read from the file named after "--", taken in turn across every connection.
local ids = {}
local counter = 0
local thread_id = 0
local threads = {}
local message = "Hi, I upgraded our team to the business plan yesterday but two of my colleagues still see the old "
  .. "limits when they export reports. We already signed out and back in. Could you check whether the change "
  .. "reached their accounts, and tell me how long it usually takes?"

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    table.insert(ids, line)
  end
  thread_id = tid
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer demo-alice-token"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local conversation = ids[((counter + thread_id) % #ids) + 1]
  local body = '{"id":"http-' .. thread_id .. '-' .. counter .. '","text":"' .. message .. '"}'
  return wrk.format(nil, "/api/v1/workspaces/support/conversations/" .. conversation .. "/messages", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("requests %d\nerrors %d\nnon2xx %d\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("requests/s %.1f\np50_ms %.3f\np99_ms %.3f\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
