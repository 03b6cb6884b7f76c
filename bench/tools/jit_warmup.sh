#!/usr/bin/env bash
# How long a gateway's JIT keeps compiling under load: one gateway (README's JVM flags) behind the bench upstream,
# wrk at 16 connections in 20-second windows, printing per window the rate and the CPU time of the C2 compiler
# threads and of the gateway's dispatcher threads (from /proc/PID/task/*/stat).
#   bench/tools/jit_warmup.sh JAR [MINUTES] [keyed|shared] [PORT]
# keyed (default): a virtual key with a budget (every call reserved and its charge written); shared: the gateway's
# own key. Needs target/bench-classes (bench/run.sh compiles it) and wrk. Ports PORT and PORT+1 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=$1; MINUTES=${2:-3}; MODE=${3:-keyed}; P=${4:-18970}
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
java -cp target/pekko-llm.jar:target/bench-classes io.pekkollm.bench.FakeUpstream $((P + 1)) >"$WORK/up.log" 2>&1 &
PIDS+=($!)
env PEKKO_LLM_API_KEY=bench PEKKO_LLM_MASTER_KEY=bench-master OPENAI_BASE_URL=http://127.0.0.1:$((P + 1))/v1 \
  OPENAI_API_KEY=x PEKKO_LLM_DATA_DIR="$WORK/data" \
  java -XX:+UseSerialGC -Xms32m -Xmx512m -jar "$JAR" serve --port $P >"$WORK/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$P/health" >/dev/null && break; sleep 0.5; done
KEY=bench
if [ "$MODE" = keyed ]; then
  KEY=$(curl -sf "http://127.0.0.1:$P/v1/keys" -H "Authorization: Bearer bench-master" \
    -H 'Content-Type: application/json' -d '{"name":"jit","max_budget":1000000,"budget_duration":"30d"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
fi
threads() { # "C2 ms dispatcher ms" so far
  python3 - "$GW" <<'PY'
import os, sys
pid = sys.argv[1]
c2 = disp = 0
for t in os.listdir(f'/proc/{pid}/task'):
    try:
        name = open(f'/proc/{pid}/task/{t}/comm').read().strip()
        st = open(f'/proc/{pid}/task/{t}/stat').read()
    except OSError:
        continue
    f = st[st.rindex(')') + 2:].split()
    ms = (int(f[11]) + int(f[12])) * 1000 // os.sysconf('SC_CLK_TCK')
    if name.startswith('C2 Compiler'):
        c2 += ms
    elif name.startswith('pekko-llm-pekko'):
        disp += ms
print(c2, disp)
PY
}
prev=$(threads)
for i in $(seq 1 $((MINUTES * 3))); do
  rate=$(BENCH_KEY=$KEY BENCH_MODEL=openai/gpt-4o-mini wrk -t2 -c16 -d20s -s bench/wrk/chat.lua \
    "http://127.0.0.1:$P/v1/chat/completions" | awk '/Requests\/sec/ {print $2}')
  now=$(threads)
  read -r c0 d0 <<<"$prev"; read -r c1 d1 <<<"$now"
  echo "$((i * 20)) s: $rate req/s; this window: C2 $((c1 - c0)) ms, dispatcher $((d1 - d0)) ms of CPU"
  prev=$now
done
