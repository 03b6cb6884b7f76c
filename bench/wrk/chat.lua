-- wrk script: POST a non-streaming chat completion for the model in BENCH_MODEL and print one JSON summary
-- line (prefix BENCH_JSON) with throughput, errors and latency percentiles in microseconds. BENCH_KEY: the bearer
-- key (default "bench").
local model = os.getenv("BENCH_MODEL") or "bench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "bench")
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello to the benchmark."}]}'

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"mean_us":%.1f,"stdev_us":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
