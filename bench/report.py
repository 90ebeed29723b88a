#!/usr/bin/env python3
"""report.py BASELINES_JSONL KONTINGENT_JSONL PNG > README.md: one table, the ratios, a chart."""
import json, os, sys, datetime

base = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kont = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
png = sys.argv[3]


def num(v):
    if not isinstance(v, (int, float)):
        return str(v) if v not in (None, "") else "-"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def find(rows, **kw):
    for r in rows:
        if all(str(r.get(k)) == str(v) for k, v in kw.items()):
            return r
    return None


def mode_has(rows, engine, text, **kw):
    for r in rows:
        if r.get("engine", "").startswith(engine) and text in str(r.get("mode", "")) and all(
            str(r.get(k)) == str(v) for k, v in kw.items()
        ):
            return r
    return None


print("# Benchmarks: kontingent beside the usual alternatives")
print()
print(f"One run of `bench/run.sh` on this machine ({datetime.date.fromtimestamp(os.path.getmtime(sys.argv[2]))}; 2 vCPUs, ext4 on a virtual disk).")
print("Every engine does the same thing: atomically check that a unit is left, take it, and record")
print("the reservation, durably (fdatasync / synchronous_commit=on / appendfsync always / synchronous=FULL)")
print("before answering. The plain-Python row is in memory and not durable.")
print()
print("## Results")
print()
print("| engine | mode | workload | clients | pipeline | throughput | unit | p50 ms | p99 ms | fsyncs/s | per fsync | correctness |")
print("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
for r in base + kont:
    print("| " + " | ".join([
        str(r.get("engine", "")), str(r.get("mode", "")), str(r.get("workload", "")), str(r.get("clients", "")),
        str(r.get("pipeline", "-")), num(r.get("throughput")), str(r.get("unit", "")),
        num(r.get("p50_ms")), num(r.get("p99_ms")), num(r.get("syncs_per_s")), num(r.get("per_sync")),
        str(r.get("correctness", "")),
    ]) + " |")

print()
print("## Ratios: kontingent / baseline, same workload and clients, equal durability")
print()
print("| kontingent run | vs PostgreSQL | vs Redis AOF-always | vs SQLite FULL | vs disk fdatasync/s |")
print("|---|---:|---:|---:|---:|")
disk = mode_has(base, "disk", "append")
for w in ("hot", "spread"):
    for c in (1, 8, 32, 64):
        k = find(kont, workload=w, clients=c, pipeline="-")
        if not k:
            continue
        pg = find(base, engine="postgres-15", workload=w, clients=c) or mode_has(base, "postgres", "", workload=w, clients=c)
        rd = mode_has(base, "redis", "aof_always", workload="hot", clients=c, pipeline=1)
        sq = mode_has(base, "sqlite", "FULL", workload="hot", clients=min(c, 4) if c > 1 else 1)
        def ratio(b):
            return f"{k['throughput'] / b['throughput']:.1f}x" if b and b.get("throughput") else "-"
        print(f"| {w} @{c} ({num(k['throughput'])}/s) | {ratio(pg)} | {ratio(rd)} | {ratio(sq)} | {ratio(disk)} |")
for k in kont:
    if k.get("pipeline", "-") != "-":
        rd = mode_has(base, "redis", "aof_always", workload="hot", clients=64, pipeline=16)
        r = f"{k['throughput'] / rd['throughput']:.1f}x" if rd else "-"
        print(f"| {k['clients']} x {k['pipeline']} ({num(k['throughput'])}/s) | - | {r} (vs pipelined x16 @64) | - | - |")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels, values, colors = [], [], []
    def add(label, row, color):
        if row and isinstance(row.get("throughput"), (int, float)):
            labels.append(label); values.append(row["throughput"]); colors.append(color)
    add("disk fdatasync/s", disk, "#999999")
    add("PostgreSQL @64", find(base, engine="postgres-15", workload="hot", clients=64) or mode_has(base, "postgres", "", workload="hot", clients=64), "#336791")
    add("SQLite FULL @4", mode_has(base, "sqlite", "FULL", workload="hot", clients=4), "#0f80cc")
    add("Redis AOF @64", mode_has(base, "redis", "aof_always", workload="hot", clients=64, pipeline=1), "#d82c20")
    add("Redis AOF @64 x16", mode_has(base, "redis", "aof_always", workload="hot", clients=64, pipeline=16), "#f06a5f")
    add("kontingent @64", find(kont, workload="hot", clients=64, pipeline="-"), "#2e8b57")
    add("kontingent 4 procs", find(kont, workload="hot", pipeline="-", clients="4 procs x 16"), "#3cb371")
    for k in kont:
        if k.get("pipeline", "-") != "-":
            add(f"kontingent {k['clients']}x{k['pipeline'].replace('batch ', '')}", k, "#90ee90")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.barh(labels, values, color=colors)
    ax.set_xscale("log")
    ax.set_xlabel("durable reservations per second (log scale), hot pool")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print()
    print(f"![comparison]({png.split('/')[-1]})")
except Exception as e:  # the table is the result; the chart is a convenience
    print(f"\n(chart not drawn: {e})")

# Goals from the journal issue, judged on this run's numbers.
k64 = find(kont, workload="hot", clients=64, pipeline="-")
pg64 = find(base, engine="postgres-15", workload="hot", clients=64)
rd64 = mode_has(base, "redis", "aof_always", workload="hot", clients=64, pipeline=1)
rd16 = mode_has(base, "redis", "aof_always", workload="hot", clients=64, pipeline=16)
sq4 = mode_has(base, "sqlite", "FULL", workload="hot", clients=4)
bulk = max((k for k in kont if "1000" in str(k.get("pipeline"))), key=lambda k: k["throughput"], default=None)
procs = next((k for k in kont if "procs" in str(k.get("clients"))), None)
replay = next((k for k in kont if k.get("mode") == "replay on open"), None)
rows = []
def goal(name, value, target, ok, unit=""):
    rows.append((name, value, target, "met" if ok else f"**missed** ({value_ratio(value, target)})"))
def value_ratio(v, t):
    try:
        return f"{float(str(v).rstrip('x').replace(',', '')) / float(str(t).lstrip('≥≤ ').rstrip('x ms').replace(',', '')):.0%} of the goal"
    except Exception:
        return "see above"
if k64 and pg64 and rd64 and sq4:
    r = k64["throughput"]
    goal("64 clients, hot: vs PostgreSQL", f"{r / pg64['throughput']:.0f}x", "≥ 100x", r >= 100 * pg64["throughput"])
    goal("64 clients, hot: vs Redis AOF-always", f"{r / rd64['throughput']:.1f}x", "≥ 5x", r >= 5 * rd64["throughput"])
    goal("64 clients, hot: vs SQLite FULL", f"{r / sq4['throughput']:.1f}x", "≥ 40x", r >= 40 * sq4["throughput"])
    goal("64 clients, hot: p99", f"{k64['p99_ms']:.2f} ms", "≤ 1 ms", k64["p99_ms"] <= 1.0)
    goal("reservations per fdatasync / requests in flight (64)", f"{k64['per_sync'] / 64:.2f}", "≥ 0.8", k64["per_sync"] / 64 >= 0.8)
if bulk and rd16:
    goal("batch API (1,000 per call)", f"{bulk['throughput']:,.0f}/s", "≥ 1,000,000/s", bulk["throughput"] >= 1e6)
    goal("batch API vs Redis pipelined x16", f"{bulk['throughput'] / rd16['throughput']:.1f}x", "≥ 5x", bulk["throughput"] >= 5 * rd16["throughput"])
if procs:
    goal("4 processes on one file", f"{procs['throughput']:,.0f}/s", "≥ 50,000/s", procs["throughput"] >= 5e4)
if replay:
    goal("replay", f"{replay['throughput']:,.0f}/s", "≥ 3,000,000/s", replay["throughput"] >= 3e6)
restart = next((k for k in kont if k.get("mode") == "restart from checkpoint"), None)
if restart:
    goal("restart of a 10M-reservation ledger from a checkpoint", f"{restart['throughput']:.2f} s", "< 2 s", restart["throughput"] < 2)
else:
    rows.append(("restart of a 10M-reservation ledger from a checkpoint", "not measured", "< 2 s", "not in this run"))
print()
print("## Goals (journal issue) on this run")
print()
print("| goal | measured | target | status |")
print("|---|---:|---:|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print("""
## Where the time goes

- **64 blocking clients.** Each reservation costs its client thread one sleep and one
  wake-up; with 64 threads on 2 vCPUs the kernel's task switching and wake-up paths take
  about half of the CPU (perf: `finish_task_switch`, `_raw_spin_unlock_irqrestore`), and
  the disk is synced ~4,000 times a second with ~24 reservations each. The write leader
  hands on as soon as it has written, and syncs overlap writing, but a request that
  arrives while a sync runs still waits for the next one. The same callers through the
  batch API (fewer wake-ups per reservation) reach 0.6–1.1 M/s, which is where the
  ledger itself stands.
- **Restart from a checkpoint** (10 M reservations, 658 MB): reading and checking the
  file is quick; most of the time goes into rebuilding the request-id and customer hash
  indexes (one random insert per reservation into tables of millions).
- **Replay.** ~0.6 µs per command: the request-id index (one cache miss per new id in a
  multi-million-entry table), CRC-32C, decoding (four small string allocations per
  reservation), then the state machine. Reading is in 4 MiB windows.
""")
