#!/usr/bin/env bash
# The side-by-side benchmark, in one run, on this machine:
#   the baselines of ../shared/baselines (disk fsync, PostgreSQL, Redis, SQLite, plain Python)
#   and kontingent at equal durability (fdatasync before every acknowledgement).
# Writes $OUT/{baselines,kontingent.jsonl} and regenerates bench/README.md and bench/comparison.png.
# Takes about 6 minutes. Usage: bench/run.sh   (SECS=5 per kontingent run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared/baselines}
OUT=${OUT:-/tmp/kontingent-bench/$(date +%Y%m%d-%H%M%S)}
SECS=${SECS:-5}
mkdir -p "$OUT"
python3 -c "import matplotlib" 2>/dev/null || pip install -q matplotlib

echo "== baselines (same scripts as ../shared/MEASUREMENTS.md, shorter runs)"
[ -n "${SKIP_BASELINES:-}" ] || (cd "$SHARED" && BASELINE_OUT="$OUT/baselines" PARTS="fsync postgres redis sqlite inmem" \
  PG_TEST_FSYNC=0 DURATION=10 SYNC_MODES=on WORKLOADS="hot spread" \
  TARGET_SECS=5 MODES=aof_always PIPELINES="1 16" CHECK=0 \
  SECS=5 SYNCS=FULL PROCS="1 4" bash run_all.sh >"$OUT/baselines.log" 2>&1)

echo "== kontingent"
cargo build --release --locked -q -p kontingent-bench
K=target/release/kontingent-bench
J=$OUT/kontingent.jsonl
DIR=$(mktemp -d)
for w in hot spread; do
  for c in 1 8 32 64; do "$K" durable --clients "$c" --workload "$w" --secs "$SECS" --dir "$DIR" >>"$J"; done
done
"$K" durable --clients 64 --batch 16 --secs "$SECS" --dir "$DIR" >>"$J"
"$K" durable --clients 4 --batch 1000 --secs "$SECS" --dir "$DIR" >>"$J"
"$K" processes --procs 4 --threads 16 --secs "$SECS" --dir "$DIR" >>"$J"
"$K" replay --records 3000000 --dir "$DIR" >>"$J"
"$K" restart --records 10000000 --dir "$DIR" >>"$J"
rm -rf "$DIR"

python3 bench/report.py "$OUT/baselines/latest/results.jsonl" "$J" bench/comparison.png >bench/README.md
echo "done: bench/README.md, bench/comparison.png (raw results in $OUT)"
