#!/usr/bin/env bash
# How long the first call of a busy key takes after a restart (its spend entity replays its journal): a key is
# loaded for SECONDS (wrk, 16 connections, priced model), the gateway restarted on the same journal, warmed with
# the shared key, then one call of the key is timed. Prints the spend events and snapshots in the journal.
#   bench/tools/spend_recovery.sh JAR SECONDS PORT   (ports PORT and PORT+1 on 127.0.0.1; needs target/bench-classes)
set -euo pipefail
JAR=$1; SECS=$2; P=$3; UP=$((P+1))
cd "$(dirname "$0")/../.."
W=$(mktemp -d)
java -cp target/pekko-llm.jar:target/bench-classes io.pekkollm.bench.FakeUpstream $UP >$W/up.log 2>&1 & UPID=$!
start() { env PEKKO_LLM_API_KEY=bench PEKKO_LLM_MASTER_KEY=bench-master OPENAI_BASE_URL=http://127.0.0.1:$UP/v1 OPENAI_API_KEY=x PEKKO_LLM_DATA_DIR=$W/d java -jar $JAR serve --port $P >>$W/gw.log 2>&1 & GW=$!; for _ in $(seq 1 120); do curl -sf http://127.0.0.1:$P/health >/dev/null && break; sleep 0.5; done; }
start
KEY=$(curl -sf http://127.0.0.1:$P/v1/keys -H "Authorization: Bearer bench-master" -H 'Content-Type: application/json' -d '{"name":"rec","max_budget":1000000,"budget_duration":"30d"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
BENCH_KEY=$KEY BENCH_MODEL=openai/gpt-4o-mini wrk -t2 -c16 -d${SECS}s -s bench/wrk/chat.lua http://127.0.0.1:$P/v1/chat/completions | grep -v BENCH_JSON | grep "Requests/sec"
SPEND1=$(curl -sf http://127.0.0.1:$P/v1/keys/${KEY:3:16} -H "Authorization: Bearer bench-master" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spend"])')
kill $GW; wait $GW || true
start
# warm the gateway with the shared key (JIT, pools), then the first call of the key: its spend entity starts (replay)
for i in 1 2 3 4 5; do curl -s -o /dev/null http://127.0.0.1:$P/v1/chat/completions -H "Authorization: Bearer bench" -H 'Content-Type: application/json' -d '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'; done
T=$(curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:$P/v1/chat/completions -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
T2=$(curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:$P/v1/chat/completions -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
SPEND2=$(curl -sf http://127.0.0.1:$P/v1/keys/${KEY:3:16} -H "Authorization: Bearer bench-master" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spend"])')
kill $GW; wait $GW || true
EV=$(java -cp target/pekko-llm.jar org.h2.tools.Shell -url "jdbc:h2:file:$W/d/journal" -user "" -sql "SELECT count(*) FROM \"event_journal\" WHERE \"persistence_id\" LIKE 'key-spend%'" | tail -2 | head -1)
SN=$(java -cp target/pekko-llm.jar org.h2.tools.Shell -url "jdbc:h2:file:$W/d/journal" -user "" -sql "SELECT count(*) FROM \"snapshot\"" | tail -2 | head -1)
echo "$JAR: spend events $EV, snapshots $SN, spend before $SPEND1 after $SPEND2; first keyed call after restart ${T}s, second ${T2}s"
kill $UPID; rm -rf $W
