#!/usr/bin/env bash
# kontingent serve under HTTP load, beside the in-process ledger, in one run:
#   wrk (Debian's), HTTP/1.1 keep-alive, 64 connections, hot pool, durable
#   (fdatasync before every 2xx); then one connection for latency; then the
#   in-process durable ledger at 64 clients, the disk's fdatasync rate for scale.
# Usage: bench/serve.sh   (SECS=10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
cargo build --release --locked -q -p kontingent-server -p kontingent-bench
DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
cat >"$DIR/hot.json" <<'JSON'
{"pools": [{"name": "hall", "capacity": 9000000000000}], "offers": [{"name": "seat", "draws": {"hall": 1}}],
 "hold": "1d"}
JSON
export KONTINGENT_CLIENT_KEY=bench-client-key-0123456789 KONTINGENT_OPERATOR_KEY=bench-operator-key-0123456789
target/release/kontingent-server --journal "hot=$DIR/hot.journal" --catalog "hot=$DIR/hot.json" \
  --listen 127.0.0.1:0 --clock fixed:1795950000000 >"$DIR/out" &
SERVER=$!
until grep -q listening "$DIR/out" 2>/dev/null; do sleep 0.1; done
URL=$(sed 's/listening on //' "$DIR/out")
echo "== HTTP, 64 connections, 2 wrk threads, ${SECS}s (durable: fdatasync before every answer)"
wrk -t2 -c64 -d"${SECS}s" --latency -s bench/serve.lua "$URL" | grep -E "Requests/sec|Latency|50%|99%|requests in|unexpected"
echo "== HTTP, 1 connection, ${SECS}s"
wrk -t1 -c1 -d"${SECS}s" --latency -s bench/serve.lua "$URL" | grep -E "Requests/sec|50%|99%|unexpected"
curl -s -H "Authorization: Bearer $KONTINGENT_OPERATOR_KEY" "$URL/metrics" | grep -E '^kontingent_journal'
kill $SERVER; wait $SERVER 2>/dev/null || true
echo "== in process, same durability, 64 clients, hot"
target/release/kontingent-bench durable --clients 64 --workload hot --secs "$SECS" --dir "$DIR"
