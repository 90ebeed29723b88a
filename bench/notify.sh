#!/usr/bin/env bash
# What a webhook consumer costs and how far behind it runs, under the 64-connection
# load of bench/serve.sh, in one run, for two consumers:
#   - `confirmed`: every 10th request confirms directly (a voucher form), the rest
#     hold; the consumer is given the confirmations (the mailer's case);
#   - `held`: every request's event (the worst case: every event wanted);
# each against the server alone on the same load (the reservation rate), with the
# lag from each event's commit stamp to its receipt at a fast local receiver, and
# how long the consumer takes to catch up once the load stops.
# Usage: bench/notify.sh   (SECS=10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
cargo build --release --locked -q -p kontingent-server
DIR=$(mktemp -d)
SERVER= RECEIVER=
trap 'kill $SERVER $RECEIVER 2>/dev/null; rm -rf "$DIR"' EXIT
cat >"$DIR/hot.json" <<'JSON'
{"pools": [{"name": "hall", "capacity": 9000000000000}], "offers": [{"name": "seat", "draws": {"hall": 1}}],
 "hold": "1d"}
JSON
echo "whsec-bench" >"$DIR/secret"
export KONTINGENT_CLIENT_KEY=bench-client-key-0123456789 KONTINGENT_OPERATOR_KEY=bench-operator-key-0123456789
node bench/notify-receiver.mjs >"$DIR/receiver" &
RECEIVER=$!
until [ -s "$DIR/receiver" ]; do sleep 0.1; done
PORT=$(cat "$DIR/receiver")

start() { # $1: journal name; the rest: more flags
  local name=$1; shift
  rm -f "$DIR/out"
  target/release/kontingent-server --journal "hot=$DIR/$name.journal" --catalog "hot=$DIR/hot.json" \
    --listen 127.0.0.1:0 "$@" >"$DIR/out" &
  SERVER=$!
  until grep -q listening "$DIR/out" 2>/dev/null; do sleep 0.1; done
  URL=$(sed 's/listening on //' "$DIR/out")
}
rate() { grep -oE "Requests/sec:\s+[0-9.]+" "$1" | grep -oE "[0-9.]+$"; }

run() { # $1: the event type given; $2: CONFIRM_EVERY
  local type=$1
  export CONFIRM_EVERY=$2
  curl -s "http://127.0.0.1:$PORT/reset" >/dev/null
  echo "== $type: without a consumer, 64 connections, ${SECS}s"
  start "plain-$type"
  wrk -t2 -c64 -d"${SECS}s" --latency -s bench/serve.lua "$URL" >"$DIR/plain"
  grep -E "Requests/sec|99%" "$DIR/plain"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  echo "== $type: with a webhook given every $type event, 64 connections, ${SECS}s"
  start "hooked-$type" --webhook "hot/webhook:bench=http://127.0.0.1:$PORT/hook" --webhook-secret-file "$DIR/secret"
  curl -sf -X POST -H "Authorization: Bearer $KONTINGENT_OPERATOR_KEY" -H "Content-Type: application/json" \
    -d "{\"consumer\":\"webhook:bench\",\"events\":[\"$type\"]}" "$URL/v1/ledgers/hot/consumers" >/dev/null
  wrk -t2 -c64 -d"${SECS}s" --latency -s bench/serve.lua "$URL" >"$DIR/hooked"
  grep -E "Requests/sec|99%" "$DIR/hooked"
  local during behind t0 t1 after
  during=$(curl -s "http://127.0.0.1:$PORT/stats")
  behind=$(consumer_behind)
  t0=$(date +%s.%N)
  while [ "$(consumer_behind)" != 0 ]; do sleep 0.05; done
  t1=$(date +%s.%N)
  after=$(curl -s "http://127.0.0.1:$PORT/stats")
  kill $SERVER; wait $SERVER 2>/dev/null || true
  python3 - "$type" "$(rate "$DIR/plain")" "$(rate "$DIR/hooked")" "$during" "$after" "$behind" "$t0" "$t1" "$SECS" <<'PY'
import json, sys
kind, plain, hooked = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
during, after = json.loads(sys.argv[4]), json.loads(sys.argv[5])
behind, drain, secs = int(sys.argv[6]), float(sys.argv[8]) - float(sys.argv[7]), float(sys.argv[9])
print(f"[{kind}] reservations: {plain:,.0f}/s alone, {hooked:,.0f}/s with the consumer ({(1 - hooked / plain) * 100:+.1f} % slower; goal < 5 %)")
print(f"[{kind}] delivered during the load: {during['count']:,} ({during['count'] / secs:,.0f}/s); lag commit -> receipt "
      f"p50 {during['p50']} ms, p90 {during['p90']} ms, p99 {during['p99']} ms, max {during['max']} ms")
print(f"[{kind}] behind when the load stopped: {behind:,} events; caught up {drain:.1f} s later")
print(f"[{kind}] all: {after['count']:,} deliveries of {after['distinct']:,} distinct keys; lag p50 {after['p50']} ms, p99 {after['p99']} ms")
PY
}
consumer_behind() {
  curl -s -H "Authorization: Bearer $KONTINGENT_OPERATOR_KEY" "$URL/v1/ledgers/hot/consumers" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['consumers'][0]['behind'])"
}
run paused 10
run confirmed 10
run held 0
