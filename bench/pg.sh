#!/usr/bin/env bash
# The PostgreSQL log, side by side in one run with ../shared/baselines/postgres:
# the conditional-UPDATE baseline (hot row, 64 pgbench clients, synchronous_commit=on)
# and kontingent's log in PostgreSQL (4 app processes x 16 threads, one hot pool),
# each on its own throwaway cluster. Writes bench/PG.md. About 1 minute.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-$PWD/../shared/baselines}
SECS=${SECS:-10}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "== baseline: PostgreSQL conditional UPDATE, hot, 64 clients"
(cd "$SHARED" && BASELINE_OUT="$OUT/baselines" PARTS="postgres" PG_TEST_FSYNC=0 DURATION="$SECS" \
  SYNC_MODES=on WORKLOADS=hot CLIENTS=64 CHECK=0 bash run_all.sh >"$OUT/baseline.log" 2>&1)
BASE=$(python3 -c "
import json,glob
rows=[json.loads(l) for f in glob.glob('$OUT/baselines/*/results.jsonl') for l in open(f)]
r=[x for x in rows if x.get('engine','').startswith('postgres') and x.get('clients')==64 and x.get('workload')=='hot']
print(r[0]['throughput'], r[0].get('p99_ms'))")
echo "baseline: $BASE"
echo "== kontingent: the log in PostgreSQL"
cargo build --release --locked -q -p kontingent-pg --bin kontingent-pg-bench
K1=$(target/release/kontingent-pg-bench --procs 4 --threads 16 --secs "$SECS")
K2=$(target/release/kontingent-pg-bench --procs 1 --threads 64 --secs "$SECS")
echo "$K1"; echo "$K2"
python3 - "$BASE" "$K1" "$K2" > bench/PG.md <<'PY'
import json, sys
base, p99 = sys.argv[1].split()
base = float(base)
rows = [json.loads(a) for a in sys.argv[2:]]
print("# The log in PostgreSQL: benchmark\n")
print("Produced by `bench/pg.sh` (one run, side by side with `../shared/baselines/postgres`, each on its own")
print("throwaway PostgreSQL 15 cluster, synchronous_commit=on, this 2-vCPU VM).\n")
print("| what | clients | ops/s | p50 ms | p99 ms | per commit | × baseline |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| baseline: conditional UPDATE, hot row (pgbench) | 64 | {base:,.0f} | | {float(p99):.1f} | 1 | 1.0 |")
for r in rows:
    what = f"kontingent, {r['procs']} app process{'es' if r['procs'] > 1 else ''} × {r['threads']} threads"
    print(f"| {what} | {r['clients']} | {r['ops_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['per_commit']:.1f} | {r['ops_per_s'] / base:.1f} |")
print("""
Goal: 4 app processes, 64 clients, hot pool ≥ 30× the baseline. **Missed**: see the first
kontingent row. Where the time goes: the ledger's lock (an advisory lock) is held from the
tail through the COMMIT, whose WAL flush is the durability point, so the four processes'
batches are strictly serialised, one commit cycle each (~0.6 ms here: two round trips,
the flush, the lock hand-off between backends, four app processes × 17 threads sharing
2 cores).
Each process brings at most its 16 clients to a cycle (all 16: whoever queues while the
leader waits for the lock joins its batch). One app process with all 64 clients (second
row) makes ~50 per commit and reaches the goal's rate: the
limit is commits per second of one serialised writer, which is why ARCHITECTURE.md's next
step is one writer per ledger (app servers forwarding to it) and then escrow shards.""")
PY
cat bench/PG.md
