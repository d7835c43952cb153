-- wrk script of scripts/check-deploy: prints one machine-readable line with the request
-- count and every kind of failure (socket errors, and `status`: responses >= 400).
-- Set WRK_METHOD=POST, WRK_BODY and WRK_CONTENT_TYPE for a stream of POSTs.
local method = os.getenv("WRK_METHOD")
if method then
  wrk.method = method
  wrk.body = os.getenv("WRK_BODY")
  wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, e.connect, e.read, e.write, e.timeout, e.status))
end
