"""Histories recorded from Python threads through the binding, checked by
kontingent-verify: a Wing-Gong-Lowe search against the quota specification, and
the journal's own order (real time respected, each acknowledged command once,
replay reproduces every answer)."""

import json
import os
import pathlib
import random
import subprocess
import threading
import time
from datetime import datetime, timezone

import kontingent as k

ROOT = pathlib.Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc)
POOLS = {"p0": 3, "p1": 2}
CATALOG = {
    "pools": [{"name": p, "capacity": c} for p, c in POOLS.items()],
    "offers": [{"name": f"{p}-unit", "draws": {p: 1}} for p in POOLS],
}


def verifier() -> str:
    exe = ROOT / "target" / "debug" / "kontingent-verify"
    if not exe.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "kontingent-verify"], cwd=ROOT, check=True)
    return str(exe)


def answer(o: k.Outcome) -> dict:
    match o:
        case k.Held(reservation=r, units=u):
            return {"status": "held", "units": u, "reservation": r}
        case k.Confirmed(reservation=r, units=u):
            return {"status": "confirmed", "units": u, "reservation": r}
        case k.Released(reservation=r):
            return {"status": "released", "reservation": r}
        case k.Refused(reason=k.SoldOut(requested=req, left=left)):
            return {"status": "sold_out", "requested": req, "left": left}
    raise AssertionError(f"unexpected outcome {o!r}")


def record(path: str, seed: int, threads: int = 6, ops: int = 8) -> list[dict]:
    led = k.Ledger.open(path, catalog=CATALOG, clock=k.FixedClock(AT))
    history: list[dict] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def client(c: int) -> None:
        rnd = random.Random(seed * 100 + c)
        mine: list[tuple[str, str, int]] = []
        start.wait()
        for i in range(ops):
            if mine and rnd.random() < 0.4:
                rid, pool, res = mine.pop(rnd.randrange(len(mine)))
                kind = "confirm" if rnd.random() < 0.5 else "release"
                op = {"type": kind, "request_id": rid, "pool": pool, "reservation": res}
                call = time.monotonic_ns()
                o = led.confirm(res, at=AT) if kind == "confirm" else led.release(res, at=AT)
            else:
                # Sometimes a double click: another client's request, sent again.
                rid = f"r{seed}-{rnd.randrange(threads)}-{rnd.randrange(3)}" if rnd.random() < 0.15 \
                    else f"r{seed}-{c}-{i}"
                # A request's content follows from its id, so a repeat is the same request.
                h = sum(rid.encode())
                pool, confirm = list(POOLS)[h % len(POOLS)], h % 3 == 0
                op = {"type": "reserve", "request_id": rid, "customer": f"c{rid}", "pool": pool,
                      "units": 1, "confirm": confirm}
                call = time.monotonic_ns()
                try:
                    o = led.reserve(rid, customer=f"c{rid}", lines={f"{pool}-unit": 1}, confirm=confirm, at=AT)
                except k.KontingentError as e:
                    ret = time.monotonic_ns()
                    with lock:
                        history.append({"client": c, "call_ns": call, "return_ns": ret, "op": op,
                                        "ret": {"status": "error", "code": e.code}})
                    continue
                if isinstance(o, k.Held) and rid.endswith(f"-{c}-{i}"):
                    mine.append((rid, pool, o.reservation))
            ret = time.monotonic_ns()
            with lock:
                history.append({"client": c, "call_ns": call, "return_ns": ret, "op": op, "ret": answer(o)})

    ts = [threading.Thread(target=client, args=(c,)) for c in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return history


def test_histories_from_python_threads_are_linearizable(tmp_path):
    exe = verifier()
    pools = [a for p, c in POOLS.items() for a in ("--pool", f"{p}={c}")]
    n = int(os.environ.get("KONTINGENT_PY_HISTORIES", "20"))
    for seed in range(n):
        journal = str(tmp_path / f"h{seed}.journal")
        history = record(journal, seed)
        file = tmp_path / f"h{seed}.jsonl"
        file.write_text("\n".join(json.dumps(h) for h in history) + "\n")
        r = subprocess.run([exe, *pools, "--journal", journal, str(file)], capture_output=True, text=True)
        assert r.returncode == 0, f"seed {seed}: {r.stdout}{r.stderr}"


def test_the_checker_rejects_a_history_python_could_not_have_seen(tmp_path):
    """The same pipeline on a forged history (a unit sold twice) must fail."""
    exe = verifier()
    pools = [a for p, c in POOLS.items() for a in ("--pool", f"{p}={c}")]
    history = record(str(tmp_path / "f.journal"), 99)
    held = [h for h in history if h["ret"]["status"] in ("held", "confirmed")]
    refused = [h for h in history if h["ret"]["status"] == "sold_out"]
    assert refused, "the run sold out somewhere"
    forged = dict(refused[0])
    forged["ret"] = {"status": "held", "units": 1, "reservation": 10_000}
    bad = [h for h in history if h is not refused[0]] + [forged]
    file = tmp_path / "forged.jsonl"
    file.write_text("\n".join(json.dumps(h) for h in bad) + "\n")
    r = subprocess.run([exe, *pools, str(file)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert held
