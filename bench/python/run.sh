#!/usr/bin/env bash
# The Python binding's benchmark, side by side in one run with the baselines of
# ../shared/baselines that run from Python: the plain dict + lock (in memory) and
# SQLite WAL synchronous=FULL. Writes bench/python/README.md. About 1.5 minutes.
# Usage: bench/python/run.sh   (SECS=5 per run; the package must be installed:
#        pip install ./bindings-python)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-$PWD/../shared/baselines}
SECS=${SECS:-5}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
J=$OUT/results.jsonl

echo "== baseline: plain Python dict + lock"
python3 "$SHARED/python_inmem/inmem_bench.py" --seconds "$SECS" | tee -a "$J"
echo "== baseline: SQLite WAL synchronous=FULL from Python"
for p in 1 4; do
  python3 "$SHARED/sqlite/sqlite_bench.py" bench --db "$OUT/quota.db" --sync FULL --procs "$p" \
    --seconds "$SECS" --emit "$OUT/sqlite.jsonl" >/dev/null
done
cat "$OUT/sqlite.jsonl" | tee -a "$J"
echo "== kontingent from Python"
python3 bench/python/python_bench.py inmem --secs "$SECS" | tee -a "$J"
for t in 1 8 32 64; do
  python3 bench/python/python_bench.py durable --threads "$t" --secs "$SECS" --dir "$OUT" | tee -a "$J"
done
python3 bench/python/report.py "$J" > bench/python/README.md
echo "done: bench/python/README.md"
