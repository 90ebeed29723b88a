#!/usr/bin/env python3
"""Python binding benchmarks, side by side with ../shared/baselines (issue 6).

  inmem    one thread, in-memory ledger, every rule of the Emstek catalog on
           (customer limit, postal-code allow-list, channel shares): reserve calls/s.
           Compared with the plain dict + lock baseline (which checks no rules).
  durable  N Python threads on a journal file, durability full (fdatasync before each
           answer, threads share syncs): reservations/s, p50/p99 latency.
           Compared with SQLite WAL synchronous=FULL from Python.

Prints one JSON object per measurement (one line each).
Usage: python_bench.py inmem [--secs S] | durable --threads N [--secs S] [--dir D]
"""
import argparse
import json
import os
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import kontingent as k

T0 = datetime(2026, 11, 29, 11, 1, tzinfo=timezone.utc)  # after the 12:00 Berlin opening

CATALOG = {
    "name": "bench",
    "time_zone": "Europe/Berlin",
    "hold": "10m",
    "channels": ["web", "phone"],
    "opens_at": "2026-11-29 12:00",
    "pools": [
        {"name": "hot", "capacity": 1_000_000_000},
        {"name": "budget", "capacity": 1_000_000_000_000},
    ],
    "offers": [{"name": "v20", "price": 2000, "draws": {"hot": 1, "budget": 20}}],
    "rules": [
        # Every request is checked against all of them; none refuses in the loop.
        {"name": "max-100-eur", "kind": "customer_limit", "value": 10_000_000_000},
        {"name": "emstek-only", "kind": "allowed_values", "attribute": "postal_code", "values": ["49685"]},
        {"name": "phone-share", "kind": "channel_share", "pool": "hot", "channel": "phone", "keep": 10},
    ],
}
ZIP = {"postal_code": "49685"}
# The durable run stamps requests with the wall clock ("now"): open from the start.
OPEN_CATALOG = {key: v for key, v in CATALOG.items() if key != "opens_at"}
CUSTOMERS = [f"cust-{i}" for i in range(1024)]


def inmem(secs: float) -> list[dict]:
    out = []
    # The typed API, one call per reservation.
    led = k.Ledger.in_memory(catalog=CATALOG)
    reserve, n, i = led.reserve, 0, 0
    deadline = time.perf_counter() + secs
    t0 = time.perf_counter()
    while True:
        for _ in range(1024):
            reserve(f"r{i}", customer=CUSTOMERS[i & 1023], lines={"v20": 1}, attributes=ZIP, at=T0)
            i += 1
        n += 1024
        if time.perf_counter() >= deadline:
            break
    el = time.perf_counter() - t0
    assert led.pool("hot").held == n
    out.append(dict(bench="python_inmem", api="reserve", threads=1, ops=n, secs=el, ops_per_s=n / el))
    # The batch API: one call for many requests (bulk imports, servers that batch).
    led = k.Ledger.in_memory(catalog=CATALOG)
    batch = 1000
    n, i = 0, 0
    deadline = time.perf_counter() + secs
    t0 = time.perf_counter()
    while True:
        reqs = [k.Reserve(f"r{j}", customer=CUSTOMERS[j & 1023], lines={"v20": 1}, attributes=ZIP)
                for j in range(i, i + batch)]
        outs = led.reserve_many(reqs, at=T0)
        i += batch
        n += len(outs)
        if time.perf_counter() >= deadline:
            break
    el = time.perf_counter() - t0
    assert led.pool("hot").held == n
    out.append(dict(bench="python_inmem", api="reserve_many", batch=batch, threads=1, ops=n, secs=el,
                    ops_per_s=n / el))
    return out


def durable(threads: int, secs: float, directory: str) -> dict:
    path = os.path.join(directory, f"py-{threads}-{time.time_ns()}.journal")
    led = k.Ledger.open(path, catalog=OPEN_CATALOG)
    lat: list[list[int]] = [[] for _ in range(threads)]
    stop = time.perf_counter() + secs
    start = threading.Barrier(threads + 1)
    failures: list[object] = []

    def client(t: int) -> None:
        mine, pc, i = lat[t], time.perf_counter_ns, 0
        start.wait()
        while time.perf_counter() < stop:
            a = pc()
            o = led.reserve(f"t{t}-{i}", customer=CUSTOMERS[(t * 31 + i) & 1023], lines={"v20": 1},
                            attributes=ZIP)
            mine.append(pc() - a)
            if not isinstance(o, k.Held):
                failures.append(o)
                return
            i += 1

    ts = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    el = time.perf_counter() - t0
    assert not failures, failures[:3]
    all_lat = sorted(x for l in lat for x in l)
    n = len(all_lat)
    held = led.pool("hot").held
    assert held == n, (held, n)
    pct = lambda p: all_lat[min(n - 1, int(p / 100 * (n - 1) + 0.5))] / 1e6
    os.remove(path)
    return dict(bench="python_durable", threads=threads, ops=n, secs=el, ops_per_s=n / el,
                p50_ms=pct(50), p99_ms=pct(99))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["inmem", "durable"])
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    if a.what == "inmem":
        for r in inmem(a.secs):
            print(json.dumps(r), flush=True)
    else:
        with tempfile.TemporaryDirectory(dir=a.dir) as d:
            print(json.dumps(durable(a.threads, a.secs, d)), flush=True)


if __name__ == "__main__":
    main()
