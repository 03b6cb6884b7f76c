#!/usr/bin/env bash
# A/B of two gateway jars behind the bench upstream, both running at once, measured in alternating rounds, so
# background load hits both alike: non-streaming wrk (16 connections) or streaming (Probe, 16 streams back to back),
# reporting throughput and the gateway's CPU time per request or per chunk (less sensitive to load than latency).
#   bench/tools/ab.sh A.jar B.jar [rounds] [nonstream|stream|stream1|stream-keys|nonstream-keys] [extra JVM flags for both]
# stream1: one stream at a time (openai/bench-n100-g1, journal on): time to first token, p50 and p90 per round.
# AB_ENV_A / AB_ENV_B: extra environment for one side only ("NAME=value NAME2=value"), e.g. the same jar twice with
# tracing on one side: AB_ENV_B="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" (bench/tools/otlp_sink.py).
# stream-keys: both gateways have PEKKO_LLM_API_KEY and PEKKO_LLM_MASTER_KEY set and stream a priced model
# (openai/gpt-4o-mini, 100 chunks); A is called with the shared key, B with a virtual key made on B (with a budget,
# so every stream is admitted by reservation and its cost recorded): the cost of key checks and spend recording.
# nonstream-keys: the same for non-streaming calls (wrk): the latency a key check and a durable charge add.
# AB_WARMUP=N: N warm-up rounds of 5 s per side before the measured ones (default 24: 2 minutes per side; the keyed
# path takes about a minute of load to be compiled by the JIT, and a shorter warm-up measures that on one side only).
# The end prints each adjacent pair's B/A (rate, CPU per unit) and their medians.
# Pass the same jar twice to measure only that. AB_KEYS=both: A is called with a virtual key (made on A) too, to
# compare two settings of the keyed path (AB_ENV_A / AB_ENV_B).
# Needs target/bench-classes (bench/run.sh compiles it). Ports 18911-18913 on 127.0.0.1 (AB_PORT=N: N to N+2).
set -euo pipefail
P0=${AB_PORT:-18911}; P1=$((P0 + 1)); P2=$((P0 + 2))
cd "$(dirname "$0")/../.."
A=$1; B=$2; ROUNDS=${3:-8}; MODE=${4:-nonstream}; FLAGS=${5:-}
CP=target/pekko-llm.jar:target/bench-classes
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
java -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 -cp $CP io.pekkollm.bench.FakeUpstream $P0 >"$WORK/up.log" 2>&1 &
PIDS+=($!)
KEYENV=""
MODEL=openai/bench-n100-g0
NSMODEL=openai/bench
KEYS=false
CONC=16
if [ "$MODE" = stream1 ]; then
  MODEL=openai/bench-n100-g1
  CONC=1
fi
if [ "$MODE" = stream-keys ] || [ "$MODE" = nonstream-keys ]; then
  KEYS=true
  KEYENV="PEKKO_LLM_API_KEY=bench PEKKO_LLM_MASTER_KEY=bench-master"
  MODEL=openai/gpt-4o-mini
  NSMODEL=openai/gpt-4o-mini
fi
start() { # jar port extra-env
  mkdir -p "$WORK/$2"
  # shellcheck disable=SC2086
  env $KEYENV $3 OPENAI_BASE_URL=http://127.0.0.1:$P0/v1 OPENAI_API_KEY=x PEKKO_LLM_DATA_DIR="$WORK/$2" \
    java $FLAGS -jar "$1" serve --port "$2" >"$WORK/gw$2.log" 2>&1 &
  PIDS+=($!)
}
start "$A" $P1 "${AB_ENV_A:-}"; PA=$!
start "$B" $P2 "${AB_ENV_B:-}"; PB=$!
for p in $P0 $P1 $P2; do
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.5; done
done
KEY_A=bench; KEY_B=bench
if [ "$KEYS" = true ]; then
  KEY_B=$(curl -sf "http://127.0.0.1:$P2/v1/keys" -H "Authorization: Bearer bench-master" \
    -H 'Content-Type: application/json' -d '{"name":"ab","max_budget":1000000,"budget_duration":"30d"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  if [ "${AB_KEYS:-}" = both ]; then
    KEY_A=$(curl -sf "http://127.0.0.1:$P1/v1/keys" -H "Authorization: Bearer bench-master" \
      -H 'Content-Type: application/json' -d '{"name":"ab","max_budget":1000000,"budget_duration":"30d"}' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  fi
fi
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
round() { # port pid label seconds
  local c0 c1 out
  c0=$(cpu "$2")
  local key=$KEY_A
  [ "$1" = "$P2" ] && key=$KEY_B
  if [ "$MODE" = stream ] || [ "$MODE" = stream1 ] || [ "$MODE" = stream-keys ]; then
    out=$(BENCH_KEY=$key java -cp $CP io.pekkollm.bench.Probe "http://127.0.0.1:$1/v1/chat/completions" "$MODEL" "$CONC" "$4" "$2")
    c1=$(cpu "$2")
    echo "$3 $out"
  else
    out=$(BENCH_KEY=$key BENCH_MODEL=$NSMODEL wrk -t2 -c16 -d"$4"s -s bench/wrk/chat.lua "http://127.0.0.1:$1/v1/chat/completions" | grep BENCH_JSON | cut -c12-)
    c1=$(cpu "$2")
    python3 -c "import json,sys; d=json.loads(sys.argv[1]); r=d['requests']; print(sys.argv[2], r/d['duration_us']*1e6, 'req/s', d['p50_us'], 'us p50', (int(sys.argv[3]))*1e4/r, 'us CPU/request')" "$out" "$3" "$((c1-c0))"
  fi
}
WARM=${AB_WARMUP:-24}
echo "warm-up ($((WARM * 5)) s each, alternating; AB_WARMUP=$WARM rounds of 5 s)"
for i in $(seq 1 "$WARM"); do round $P1 "$PA" A 5 >/dev/null; round $P2 "$PB" B 5 >/dev/null; done
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) = 1 ]; then round $P1 "$PA" A 6; round $P2 "$PB" B 6; else round $P2 "$PB" B 6; round $P1 "$PA" A 6; fi
done | tee "$WORK/rounds.txt"
if [ "$KEYS" = true ]; then
  echo "B's virtual key: $(curl -sf "http://127.0.0.1:$P2/v1/keys/${KEY_B:3:16}" -H "Authorization: Bearer bench-master" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("spend", d["spend"], "USD, unwritten", d["spend_unwritten"])')"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# Adjacent rounds (A then B, or B then A) as pairs: B/A per pair and the medians, the figures to compare.
python3 - "$WORK/rounds.txt" <<'PY'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[:2] in ('A ', 'B ')]
def nums(r):
    t = ' '.join(r)
    rate = re.search(r'([\d.]+) (?:chunks/s|req/s)', t)
    cpu = re.search(r'([\d.]+) us(?:/chunk| CPU/request)', t)
    return float(rate.group(1)), float(cpu.group(1))
pairs = []
for i in range(0, len(rows) - 1, 2):
    a, b = (rows[i], rows[i + 1]) if rows[i][0] == 'A' else (rows[i + 1], rows[i])
    (ra, ca), (rb, cb) = nums(a), nums(b)
    pairs.append((rb / ra, cb / ca))
if pairs:
    print('pairs B/A (rate, CPU per unit):', ', '.join(f'{r:.2f}/{c:.2f}' for r, c in pairs))
    print(f'median B/A: rate {statistics.median(p[0] for p in pairs):.3f}, CPU per unit '
          f'{statistics.median(p[1] for p in pairs):.3f}; B faster in {sum(p[0] > 1 for p in pairs)} of {len(pairs)} pairs')
PY
