"""An outcome's ``to_dict()`` is the JSON the server answers for the same command:
the same campaign is run embedded in Python and against a real ``kontingent-server``
process (built by cargo if it is not there), on one manual clock, and every answer
is compared whole."""

import json
import os
import select
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import kontingent as k

ROOT = Path(__file__).resolve().parents[2]
CLIENT, OPERATOR = "c" * 24, "o" * 24
DAY = datetime(2026, 12, 1, tzinfo=timezone.utc)
CATALOG = (ROOT / "core" / "tests" / "catalogs" / "tour.toml").read_text()


def ms(t):
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


def server_binary():
    # Built here (a no-op when it is fresh), so a stale binary is never what is tested.
    subprocess.run(["cargo", "build", "-q", "--locked", "-p", "kontingent-server"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "kontingent-server"


class Server:
    def __init__(self, tmp, at):
        cat = tmp / "tour.toml"
        cat.write_text(CATALOG)
        env = {**os.environ, "KONTINGENT_CLIENT_KEY": CLIENT, "KONTINGENT_OPERATOR_KEY": OPERATOR,
               "KONTINGENT_LOG": "error"}
        self.proc = subprocess.Popen(
            [str(server_binary()), "--listen", "127.0.0.1:0", "--clock", f"manual:{ms(at)}",
             "--journal", f"tour={tmp / 't.journal'}", "--catalog", f"tour={cat}"],
            env=env, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        assert ready, "the server said nothing in 60 s"
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.base = line.removeprefix("listening on ")

    def post(self, path, body, key=CLIENT):
        req = urllib.request.Request(self.base + path, data=b"" if body is None else json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            return json.loads(resp.read() or b"null")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def test_every_outcome_is_the_servers_json(tmp_path):
    cat = tmp_path / "tour.toml"
    cat.write_text(CATALOG)
    at = DAY + timedelta(hours=8)
    clock = k.ManualClock(at)
    l = k.Ledger.in_memory(catalog=cat, clock=clock, at=at)
    s = Server(tmp_path, at)
    try:
        compared = []

        def both(embedded, path, body, key=CLIENT):
            mine = embedded().to_dict()
            theirs = s.post(path, body, key)
            assert mine == theirs, (path, body)
            compared.append(mine)
            return mine

        def move(to):
            clock.set(to)
            s.post("/v1/clock", {"at": ms(to)}, OPERATOR)

        def reserve(rid, who, offer="seat", **extra):
            body = {"request_id": rid, "customer": who, "lines": [{"offer": offer, "quantity": 1}], **extra}
            return both(lambda: l.reserve(rid, customer=who, lines={offer: 1}, **extra),
                        "/v1/ledgers/tour/reserve", body)

        reserve("r0", "ben")  # not open yet
        move(DAY + timedelta(hours=11))
        held = reserve("r1", "anna")
        reserve("r2", "anna", confirm=True)
        reserve("r3", "anna")  # the customer's limit
        w1 = reserve("r4", "ben", waitlist=True)
        reserve("r5", "cem")  # sold out
        w2 = reserve("r6", "dora", waitlist=True)
        both(lambda: l.leave_waitlist(w2["entry"]), "/v1/ledgers/tour/leave-waitlist", {"entry": w2["entry"]})
        both(lambda: l.release(held["reservation"]), "/v1/ledgers/tour/release",
             {"reservation": held["reservation"]})
        promoted = both(lambda: l.leave_waitlist(w1["entry"]), "/v1/ledgers/tour/leave-waitlist",
                        {"entry": w1["entry"]})
        move(DAY + timedelta(hours=11, minutes=3))
        both(lambda: l.confirm(promoted["reservation"]), "/v1/ledgers/tour/confirm",
             {"reservation": promoted["reservation"]})  # hold expired
        move(DAY + timedelta(hours=12))
        reserve("v1", "v1", offer="vip", attributes={"city": "berlin"})  # rule
        reserve("v2", "v2", offer="vip", attributes={"city": "emstek"})
        s.post("/v1/ledgers/tour/pause", None, OPERATOR)
        l.pause()
        reserve("r8", "fritz")  # paused
        s.post("/v1/ledgers/tour/resume", None, OPERATOR)
        l.resume()
        move(DAY + timedelta(hours=18))
        reserve("r9", "gina")  # closed

        seen = {(d["status"], d.get("reason")) for d in compared}
        assert seen == {("refused", "not_open_yet"), ("held", None), ("confirmed", None),
                        ("refused", "customer_limit"), ("waiting", None), ("refused", "sold_out"),
                        ("left", None), ("released", None), ("promoted", None),
                        ("refused", "hold_expired"), ("refused", "rule"), ("refused", "paused"),
                        ("refused", "closed")}, seen
    finally:
        s.stop()
