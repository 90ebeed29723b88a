#!/usr/bin/env bash
# kontingent serve under HTTP load, beside the in-process ledger, in one run:
#   wrk (Debian's), HTTP/1.1 keep-alive, 64 connections, hot pool, durable
#   (fdatasync before every 2xx); then one connection for latency; then the
#   in-process durable ledger at 64 clients; then, in the same run and at equal
#   durability, the baselines of ../shared/baselines on the hot workload at 64
#   clients (the disk's fdatasync rate, PostgreSQL's conditional UPDATE with
#   synchronous_commit=on, Redis with appendfsync always), and the ratios.
# Usage: bench/serve.sh   (SECS=10 per run; SKIP_BASELINES=1 for the server alone)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}
SHARED=${SHARED:-$PWD/../shared/baselines}
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
wrk -t2 -c64 -d"${SECS}s" --latency -s bench/serve.lua "$URL" | tee "$DIR/wrk64" \
  | grep -E "Requests/sec|Latency|50%|99%|requests in|unexpected"
echo "== HTTP, 1 connection, ${SECS}s"
wrk -t1 -c1 -d"${SECS}s" --latency -s bench/serve.lua "$URL" | grep -E "Requests/sec|50%|99%|unexpected"
curl -s -H "Authorization: Bearer $KONTINGENT_OPERATOR_KEY" "$URL/metrics" \
  | grep -E '^kontingent_journal|^kontingent_(batch_records|fdatasync_seconds)_(sum|count)'
kill $SERVER; wait $SERVER 2>/dev/null || true
echo "== in process, same durability, 64 clients, hot"
target/release/kontingent-bench durable --clients 64 --workload hot --secs "$SECS" --dir "$DIR" | tee "$DIR/inproc"
[ -n "${SKIP_BASELINES:-}" ] && exit 0
echo "== baselines, same run: disk fdatasync, PostgreSQL, Redis AOF always; hot, 64 clients (a few minutes)"
(cd "$SHARED" && BASELINE_OUT="$DIR/baselines" PARTS="fsync postgres redis" PG_TEST_FSYNC=0 DURATION=10 \
  SYNC_MODES=on WORKLOADS=hot CLIENTS=64 TARGET_SECS=5 MODES=aof_always PIPELINES=1 CHECK=0 \
  bash run_all.sh >"$DIR/baselines.log" 2>&1)
python3 - "$DIR/baselines/latest/results.jsonl" "$DIR/wrk64" "$DIR/inproc" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
http = float(re.search(r"Requests/sec:\s+([\d.]+)", open(sys.argv[2]).read()).group(1))
inproc = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])["throughput"]
def pick(engine, **kw):
    for r in rows:
        if r.get("engine", "").startswith(engine) and all(str(r.get(k)) == str(v) for k, v in kw.items()):
            return r
pg = pick("postgres", workload="hot", clients=64)
redis = pick("redis", workload="hot", clients=64, pipeline=1)
disk = next(r for r in rows if r.get("engine") == "disk" and "append" in r.get("mode", ""))
print(f"disk: {disk['throughput']:,.0f} fdatasync/s (100 B append)")
for name, r in (("PostgreSQL conditional UPDATE", pg), ("Redis AOF always", redis)):
    print(f"{name}: {r['throughput']:,.0f} res/s (p99 {r.get('p99_ms')} ms)")
print(f"kontingent serve over HTTP: {http:,.0f} req/s = {http / pg['throughput']:.1f}x PostgreSQL, {http / redis['throughput']:.2f}x Redis AOF always")
print(f"kontingent in process:      {inproc:,.0f} res/s = {inproc / pg['throughput']:.1f}x PostgreSQL, {inproc / redis['throughput']:.2f}x Redis AOF always")
PY
