-- wrk script for bench/webhook_ingest.sh: posts signed pull_request deliveries
-- and counts the answers by status.
--
-- usage: wrk ... -s webhook_ingest.lua URL -- BODIES_PREFIX RUN_ID
--
-- Thread n reads "sha256=<hex> <body>" lines from BODIES_PREFIX-n (written by
-- webhook_bodies.js), so every request carries its own commit; it starts over
-- at the end of its file, and the script reports how many times that happened
-- (a repeated commit may be answered 200 "pending" instead of 202).
-- X-GitHub-Delivery is RUN_ID-<thread>-<counter>: unique in every request.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = io.open(args[1] .. "-" .. id, "r")
  if not bodies then error("cannot open " .. args[1] .. "-" .. id) end
  run_id = args[2]
  sent = 0
  wrapped = 0
  statuses = {}
end

function request()
  local line = bodies:read("*l")
  if not line then
    wrapped = wrapped + 1
    bodies:seek("set", 0)
    line = bodies:read("*l")
  end
  local space = line:find(" ", 1, true)
  sent = sent + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "pull_request",
    ["X-GitHub-Delivery"] = run_id .. "-" .. id .. "-" .. sent,
    ["X-Hub-Signature-256"] = line:sub(1, space - 1),
  }, line:sub(space + 1))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- One line the shell script parses: key=value pairs.
function done(summary, latency, requests)
  local counts, wraps = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
    wraps = wraps + thread:get("wrapped")
  end
  local ok, accepted, other = 0, 0, 0
  for status, n in pairs(counts) do
    if status >= 200 and status < 300 then ok = ok + n else other = other + n end
    if status == 202 then accepted = accepted + n end
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT seconds=%.3f requests=%d ok2xx=%d accepted202=%d non2xx=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d timeouts=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f wrapped=%d\n",
    summary.duration / 1e6, summary.requests, ok, accepted, other, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, wraps))
end
