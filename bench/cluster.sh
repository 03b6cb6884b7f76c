#!/usr/bin/env bash
# Cluster-mode costs, printed as medians of RUNS repetitions (default 3). Everything on 127.0.0.1, bounded in time.
#   1. journalled streaming through one node of a 3-node cluster vs a single node, same PostgreSQL journal:
#      streams/s (C concurrent clients, N streams of the mock echo, no chunk delay) and TTFT (time to the first
#      content event of one stream at a time, curl's view);
#   2. kill -9 of a node to the first successful resume of one of its streams on another, shipped defaults;
#   3. single-node start-up (launch to "listening"), and the same for BASELINE_JAR when set (e.g. a jar built
#      from 5568e5e, main before cluster mode).
# Needs: target/pekko-llm.jar (mvn package), curl, python3, PostgreSQL with the role/database .ci/run creates
# (PEKKO_LLM_TEST_PG_URL/_USER/_PASSWORD, defaults below). The machine's noise goes straight into the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/pekko-llm.jar}
RUNS=${RUNS:-3}; N=${N:-200}; C=${C:-8}; TTFT_N=${TTFT_N:-30}
export PEKKO_LLM_JOURNAL_URL=${PEKKO_LLM_TEST_PG_URL:-jdbc:postgresql://127.0.0.1:5432/pekko_llm_test}
export PEKKO_LLM_JOURNAL_USER=${PEKKO_LLM_TEST_PG_USER:-pekko_llm}
export PEKKO_LLM_JOURNAL_PASSWORD=${PEKKO_LLM_TEST_PG_PASSWORD:-pekko_llm}
WORK=$(mktemp -d /tmp/pekko-llm-cluster-bench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
median() { python3 -c 'import sys,statistics;v=[float(x) for x in sys.argv[1:]];print(round(statistics.median(v),2))' "$@"; }

# start NAME JARFILE [ENV...]: launches a gateway, waits for "listening", sets PORT and LAST_PID, prints nothing.
start() {
  local name=$1 jar=$2; shift 2
  local log="$WORK/$name.log"; : > "$log"
  env "$@" PEKKO_LLM_DATA_DIR="$WORK/data-$name" java -Xmx256m -jar "$jar" serve --port 0 >"$log" 2>&1 &
  LAST_PID=$!; PIDS+=("$LAST_PID")
  for _ in $(seq 1 1200); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$LAST_PID" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.05
  done
  return 1
}
ready() { for _ in $(seq 1 600); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health/ready")" = 200 ] && return 0; sleep 0.2; done; return 1; }
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }

body() { printf '{"model":"mock/echo","stream":true,"metadata":{"mock_chunk_delay_ms":"%s"},"messages":[{"role":"user","content":"%s"}]}' "$1" "$2"; }
TEXT="Ein Strom wechselt den Knoten und kommt zurück, Wort für Wort, bis die Antwort fertig ist."

# throughput PORT: streams per second for N streams, C at a time.
throughput() {
  local t0 t1; t0=$(now_ms)
  seq 1 "$N" | xargs -P "$C" -I{} curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d "$(body 0 "$TEXT")" "http://127.0.0.1:$1/v1/chat/completions"
  t1=$(now_ms); python3 -c "print(round($N*1000/($t1-$t0),1))"
}
# ttft_curl PORT: median ms from sending a request to its first content event, one stream at a time.
ttft_curl() {
  local v=()
  for _ in $(seq 1 "$TTFT_N"); do
    v+=("$(python3 - "$1" "$(body 0 "$TEXT")" <<'PY'
import sys,time,http.client
port,body=int(sys.argv[1]),sys.argv[2]
c=http.client.HTTPConnection("127.0.0.1",port,timeout=30)
t=time.perf_counter()
c.request("POST","/v1/chat/completions",body,{"Content-Type":"application/json"})
r=c.getresponse()
while True:
    line=r.readline()
    if not line or b'"content":"' in line and b'"content":""' not in line: break
print(round((time.perf_counter()-t)*1000,3))
PY
)")
  done
  median "${v[@]}"
}

declare -a S_TP S_TTFT C_TP C_TTFT KILL START BASE
for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS" >&2
  t0=$(now_ms); start "single-$run" "$JAR"; START+=($(( $(now_ms) - t0 ))); ready "$PORT"
  throughput "$PORT" >/dev/null  # warm-up
  S_TP+=("$(throughput "$PORT")"); S_TTFT+=("$(ttft_curl "$PORT")")
  stop_all
  if [ -n "${BASELINE_JAR:-}" ]; then
    t0=$(now_ms); start "baseline-$run" "$BASELINE_JAR"; BASE+=($(( $(now_ms) - t0 ))); stop_all
  fi

  p1=$(free_port); p2=$(free_port); p3=$(free_port); seeds="127.0.0.1:$p1,127.0.0.1:$p2,127.0.0.1:$p3"
  start "a-$run" "$JAR" PEKKO_LLM_CLUSTER_SEED_NODES="$seeds" PEKKO_LLM_CLUSTER_PORT="$p1"; A=$PORT; APID=$LAST_PID
  start "b-$run" "$JAR" PEKKO_LLM_CLUSTER_SEED_NODES="$seeds" PEKKO_LLM_CLUSTER_PORT="$p2"; B=$PORT
  start "c-$run" "$JAR" PEKKO_LLM_CLUSTER_SEED_NODES="$seeds" PEKKO_LLM_CLUSTER_PORT="$p3"
  ready "$A"; ready "$B"; ready "$PORT"
  throughput "$A" >/dev/null
  C_TP+=("$(throughput "$A")"); C_TTFT+=("$(ttft_curl "$A")")
  # A slow stream on A, killed with SIGKILL after its first events; resumed on B as soon as B accepts.
  hdr="$WORK/hdr-$run"
  (curl -s -N -D "$hdr" -H 'Content-Type: application/json' -d "$(body 200 "$TEXT $TEXT")" \
    "http://127.0.0.1:$A/v1/chat/completions" > "$WORK/partial-$run" || true) &
  for _ in $(seq 1 200); do grep -q '"content":"[^"]' "$WORK/partial-$run" 2>/dev/null && break; sleep 0.05; done
  rid=$(grep -i '^x-recovery-id:' "$hdr" | tr -d '\r' | awk '{print $2}')
  kill -9 "$APID"; t0=$(now_ms)
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -H 'Content-Type: application/json' \
      -d '{"strategy":"exact"}' "http://127.0.0.1:$B/v1/streams/$rid/resume")
    [ "$code" = 200 ] && break; sleep 0.2
  done
  [ "$code" = 200 ] || { echo "no resume of $rid on B" >&2; exit 1; }
  KILL+=($(( $(now_ms) - t0 )))
  stop_all
done

echo "PostgreSQL journal, mock upstream, $N streams x $C concurrent, $RUNS runs (medians), $(nproc) cores, shared machine"
echo "single node:        $(median "${S_TP[@]}") streams/s, TTFT $(median "${S_TTFT[@]}") ms   (runs: ${S_TP[*]} / ${S_TTFT[*]})"
echo "3-node, via node A: $(median "${C_TP[@]}") streams/s, TTFT $(median "${C_TTFT[@]}") ms   (runs: ${C_TP[*]} / ${C_TTFT[*]})"
echo "kill -9 to first successful resume on another node (shipped defaults): $(median "${KILL[@]}") ms (runs: ${KILL[*]})"
echo "single-node start-up to listening: $(median "${START[@]}") ms (runs: ${START[*]})"
[ -n "${BASELINE_JAR:-}" ] && echo "baseline ($BASELINE_JAR) start-up: $(median "${BASE[@]}") ms (runs: ${BASE[*]})"
exit 0
