-- wrk script for bench/serve-load.sh: /api/search over a varied mix of
-- queries (plain words, phrases, operators, filters, date order, paging),
-- taken in turn, each thread starting at a different place.  done() prints
-- one machine-readable RESULT line that serve-load.sh turns into SERVE.md.
local queries = {
  "q=通武廊", "q=京津产业新城", "q=京津冀 协同发展", "q=养老", "q=高标准农田",
  "q=2024年", "q=发展 OR 建设&limit=20", "q=通武廊&year=2022", "q=京津冀&project=通武廊",
  "q=京津冀&sort=date", "q=科技 -创新", "q=产业 NEAR/5 园区", "q=\"京津 产业新城\"",
  "q=5G基站", "q=营商环境&offset=10", "q=乡村振兴&exact=1", "region=武清&limit=5",
  "q=新能源汽车", "q=武清&timeline=1&limit=5", "q=智能制造&type=政府工作报告",
}

local function encode(s)
  return (s:gsub("[^%w%-%._~=&]", function(c) return string.format("%%%02X", c:byte()) end))
end

local paths = {}
for i, q in ipairs(queries) do paths[i] = "/api/search?" .. encode(q) end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 7)
end

local n = 0
function request()
  n = n + 1
  local i = ((start or 0) + n) % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f queries=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, latency.mean / 1e3, #paths))
end
