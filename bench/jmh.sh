#!/usr/bin/env bash
# JMH micro-benchmarks of the gateway's hot paths (bench/jmh/java, built by the pom's `jmh` profile into
# target/jmh, so the normal build never sees them): SSE/NDJSON framing and chunk parsing (MB/s, chunks/s),
# chunk -> OpenAI JSON / SSE event encoding (ns/op), journal batch append and whole journalled streams on H2.
#
#   bench/jmh.sh                 short iterations (1 fork, 2 x 2 s warm-up, 3 x 2 s measurement): ~4 min
#   bench/jmh.sh --long          1 fork, 5 x 5 s warm-up, 5 x 5 s measurement
#   bench/jmh.sh -- ARGS...      any JMH arguments, e.g. -- SseDecodeBench -prof gc
#
# Writes bench/results/<time>-jmh.json (JMH's own JSON) and <time>-jmh.md (a table with MB/s where it applies).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN="-f 1 -wi 2 -w 2s -i 3 -r 2s"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --long) RUN="-f 1 -wi 5 -w 5s -i 5 -r 5s"; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT="target/jmh/result-$STAMP.json"
mkdir -p target/jmh bench/results
# -Djava.util.concurrent.ForkJoinPool.common.parallelism=2: as the gateway's Main sets it (see cli/Main.java).
ARGS="$RUN -foe true -jvmArgsAppend -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 -rf json -rff $OUT ${EXTRA[*]:-}"
mvn -B -q -Pjmh test-compile exec:exec@jmh -Djmh.args="$ARGS"

cp "$OUT" "bench/results/$STAMP-jmh.json"
python3 bench/tools/jmh_report.py "bench/results/$STAMP-jmh.json" > "bench/results/$STAMP-jmh.md"
cat "bench/results/$STAMP-jmh.md"
