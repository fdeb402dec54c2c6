-- wrk script for bench/http_events.py --generator wrk: each request posts a contact event
-- with a fresh client-supplied id for one of the bench's participants. Counts, per thread,
-- the requests sent and the 201 answers read, and prints them with wrk's latency
-- percentiles as one JSON line at the end.
-- Environment: BENCH_TOKEN, BENCH_PARTICIPANTS_FILE (one participant uuid per line).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("number", counter)
   table.insert(threads, thread)
end

function init(args)
   sent, created, refused = 0, 0, 0
   math.randomseed(os.time() * 1000 + number * 7919)
   people = {}
   for line in io.lines(os.getenv("BENCH_PARTICIPANTS_FILE")) do
      table.insert(people, line)
   end
   headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
              ["Content-Type"] = "application/json"}
end

local function uuid4()
   return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
      local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
      return string.format("%x", v)
   end))
end

function request()
   sent = sent + 1
   local body = string.format(
      '{"id": "%s", "participant_id": "%s", "type": "contact", "date": "2023-%02d-%02d", '
      .. '"attributes": {"mode": "phone"}}',
      uuid4(), people[math.random(#people)], math.random(3, 12), math.random(1, 28))
   return wrk.format("POST", "/api/v1/events", headers, body)
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   else
      refused = refused + 1
   end
end

function done(summary, latency, requests)
   local s, c, r = 0, 0, 0
   for _, thread in ipairs(threads) do
      s = s + thread:get("sent")
      c = c + thread:get("created")
      r = r + thread:get("refused")
   end
   local e = summary.errors
   io.write(string.format(
      '{"sent": %d, "created": %d, "refused": %d, "socket_errors": %d, "duration_s": %.3f, '
      .. '"p50_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
      s, c, r, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
