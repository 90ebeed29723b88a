"""The webshop example under gunicorn with 4 workers on one journal, loaded over HTTP:
exactly the capacity is sold, nothing is oversold, and the journal agrees with the answers."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

import kontingent as k

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SHOP = os.path.join(ROOT, "examples", "python", "webshop")
SLOTS = [f"delivery@2026-10-24T{h:02d}:{m:02d}" for h in (12, 13, 14, 15) for m in (0, 30)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/orders", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    c.close()
    return r.status, data


def test_four_gunicorn_workers_sell_exactly_the_capacity(tmp_path):
    journal = str(tmp_path / "pampanin.journal")
    env = dict(os.environ, KONTINGENT_JOURNAL=journal)
    subprocess.run([sys.executable, "app.py", "init", "2026-10-20T08:00:00+02:00"], cwd=SHOP, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=SHOP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/pools")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        results = []
        lock = threading.Lock()

        def client(t):
            for i in range(13):
                body = {"request_id": f"t{t}-{i}", "customer": f"c{t}-{i}",
                        "slot": SLOTS[(t + i) % len(SLOTS)], "tubs": {"vanilla-tub": 2, "pistachio-tub": 1},
                        "postal_code": "49685", "at": "2026-10-24T09:00:00+02:00"}
                status, data = post(port, body)
                with lock:
                    results.append((status, body, data))

        threads = [threading.Thread(target=client, args=(t,)) for t in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # A postal code outside the area is a refusal with its rule's name.
        status, data = post(port, {"request_id": "far", "customer": "far", "slot": SLOTS[0],
                                   "tubs": {"vanilla-tub": 3}, "postal_code": "10115",
                                   "at": "2026-10-24T09:00:00+02:00"})
        assert (status, data.get("reason"), data.get("name")) == (409, "rule", "delivery_area"), data
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert len(results) == 24 * 13
    confirmed = [b for s, b, d in results if s == 201]
    refused = [d for s, b, d in results if s == 409]
    assert all(s in (201, 409) for s, _, _ in results), {s for s, _, _ in results}
    assert all(d["reason"] == "sold_out" for d in refused)
    assert len(confirmed) == 4 * len(SLOTS), "every slot sold out exactly"
    l = k.Ledger.open(journal)
    for slot in SLOTS:
        p = l.pool(slot)
        assert p is not None and p.confirmed == 4 and p.held == 0, p
        assert sum(1 for b in confirmed if b["slot"] == slot) == 4
    assert l.pool("vanilla").confirmed == 5 * 2 * len(confirmed)
    assert l.pool("pistachio").confirmed == 5 * len(confirmed)
