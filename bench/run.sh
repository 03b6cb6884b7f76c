#!/usr/bin/env bash
# Runs the gateway benchmarks on this machine and writes bench/results/<time>-<mode>.{md,json}, then refreshes
# README.md's Benchmarks table. Everything runs on 127.0.0.1 and every phase is bounded in time.
#
#   bench/run.sh            full mode (~20 min: longer phases, repetitions, a 10-minute soak)
#   bench/run.sh --quick    every phase briefly (~4-5 min)
#   options: --jfr          record JFR profiles of the gateway in the heaviest phases (target/bench-run/jfr/)
#            --no-pg        skip the PostgreSQL journal even when PostgreSQL is installed
#            --only=a,b     only these phases (startup,nonstream,rate,stream1,stream1role,
#                           stream16,fresh,stream1000,throughput,idle,soak);
#                           results are written but README.md is left alone
#
# Needs: JDK 17, Maven (to build the jar when missing or stale), wrk (installed with apt-get when missing).
# PostgreSQL 15, when installed, is started if it is not running (and stopped again at the end), and a
# throw-away database pekkollm_bench is created for the PostgreSQL journal run.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/target/bench-run"
CLASSES="$ROOT/target/bench-classes"
JAR="$ROOT/target/pekko-llm.jar"

ARGS=()
PG=1
for a in "$@"; do
  case "$a" in
    --quick|--jfr) ARGS+=("$a") ;;
    --only=*) ARGS+=("$a") ;;
    --no-pg) PG=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

PG_STARTED=0
BENCH_PID=
cleanup() {
  local code=$?
  if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
  # Children the benchmark JVM started (upstream, gateways) write their pids here; end any left over.
  if [ -d "$WORK/pids" ]; then
    for f in "$WORK"/pids/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      rm -f "$f"
    done
  fi
  if [ "$PG_STARTED" = 1 ]; then
    pg_ctlcluster 15 main stop || true
  fi
  exit "$code"
}
trap cleanup EXIT INT TERM

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

# Build the jar when missing or older than any source, resource, catalog file or the pom.
if [ ! -f "$JAR" ] || [ -n "$(find src config pom.xml -newer "$JAR" -type f 2>/dev/null | head -1)" ]; then
  echo "building target/pekko-llm.jar"
  mvn -B -q package -DskipTests
fi

echo "compiling the harness (bench/harness) against the jar"
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
javac -nowarn -d "$CLASSES" -cp "$JAR" $(find bench/harness/java -name '*.java')

PG_ARGS=()
if [ "$PG" = 1 ] && command -v pg_ctlcluster >/dev/null; then
  if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    echo "starting PostgreSQL 15"
    pg_ctlcluster 15 main start && PG_STARTED=1
    for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -q && break; sleep 0.2; done
  fi
  if pg_isready -h 127.0.0.1 -q; then
    su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL' && PG_ARGS=(--pg-url=jdbc:postgresql://127.0.0.1:5432/pekkollm_bench --pg-user=pekkollm_bench --pg-password=pekkollm_bench) || echo "PostgreSQL set-up failed: skipping the PostgreSQL journal"
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pekkollm_bench') THEN
    CREATE ROLE pekkollm_bench LOGIN PASSWORD 'pekkollm_bench';
  END IF;
END $$;
DROP DATABASE IF EXISTS pekkollm_bench;
CREATE DATABASE pekkollm_bench OWNER pekkollm_bench;
SQL
  else
    echo "PostgreSQL is not reachable: skipping the PostgreSQL journal"
  fi
fi

# The 10,000-stream phase needs every file descriptor the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$WORK"
java -Xms1g -Xmx3g -cp "$JAR:$CLASSES" io.pekkollm.bench.Bench \
  --jar="$JAR" --classes="$CLASSES" --work="$WORK" --results="$ROOT/bench/results" --readme="$ROOT/README.md" \
  --wrk-script="$ROOT/bench/wrk/chat.lua" "${ARGS[@]}" "${PG_ARGS[@]}" &
BENCH_PID=$!
wait "$BENCH_PID"
