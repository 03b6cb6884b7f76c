#!/usr/bin/env bash
# The ingress formats side by side: one bench upstream (FakeUpstream), one gateway (the jar, default settings,
# journal on H2 in a temp dir), then IngressBench: Chat Completions direct and through the gateway, Anthropic
# Messages and the Responses API through it, one request at a time, interleaved, non-streaming latency and
# streaming TTFT/total p50/p99; then embeddings throughput direct vs gateway. The load average before and after is
# in the report, which goes to stdout and bench/results/<UTC time>-ingress.md.
#   bench/tools/ingress.sh [rounds=2000] [warm-up seconds=60] [embeddings seconds=30]
# Ports 18921-18922 on 127.0.0.1 (INGRESS_PORT=N: N and N+1). INGRESS_JAR=path: that gateway jar instead of
# target/pekko-llm.jar (a before/after check; not rebuilt).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROUNDS=${1:-2000}; WARM=${2:-60}; EMBED=${3:-30}
P0=${INGRESS_PORT:-18921}; P1=$((P0 + 1))
JAR="${INGRESS_JAR:-$ROOT/target/pekko-llm.jar}"
CLASSES="$ROOT/target/bench-classes-ingress-$P0"
if [ -z "${INGRESS_JAR:-}" ] && { [ ! -f "$JAR" ] || [ -n "$(find src config pom.xml -newer "$JAR" -type f 2>/dev/null | head -1)" ]; }; then
  echo "building target/pekko-llm.jar" >&2
  mvn -B -q package -DskipTests
fi
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
javac -nowarn -d "$CLASSES" -cp "$JAR" $(find bench/harness/java -name '*.java')
CP="$JAR:$CLASSES"
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
java -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 -cp "$CP" io.pekkollm.bench.FakeUpstream $P0 \
  >"$WORK/up.log" 2>&1 &
UP_PID=$!
PIDS+=($UP_PID)
OPENAI_BASE_URL=http://127.0.0.1:$P0/v1 OPENAI_API_KEY=x PEKKO_LLM_DATA_DIR="$WORK/data" \
  java -jar "$JAR" serve --port $P1 >"$WORK/gw.log" 2>&1 &
GW_PID=$!
PIDS+=($GW_PID)
for p in $P0 $P1; do
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.5; done
done
BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
REPORT=$(java -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 -cp "$CP" io.pekkollm.bench.IngressBench \
  "http://127.0.0.1:$P0" "http://127.0.0.1:$P1" "$ROUNDS" "$WARM" "$EMBED" "$GW_PID" "$UP_PID")
AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
OUT="$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-ingress.md"
{
  echo "# Ingress formats, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
  echo
  echo "Command: \`${INGRESS_JAR:+INGRESS_JAR=$INGRESS_JAR }bench/tools/ingress.sh $ROUNDS $WARM $EMBED\` on $(nproc) cores; load average before: $BEFORE, after: $AFTER."
  echo
  echo "$REPORT"
} | tee "$OUT"
