"""Consumers: journaled cursors, notification keys, and delivery that survives
kill -9 of the consumer (a de-duplicating receiver sees each event once)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import kontingent
from kontingent import Ledger

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


CATALOG = {"pools": [{"name": "vouchers", "capacity": 20}],
           "offers": [{"name": "voucher", "draws": {"vouchers": 1}}]}


def campaign(path: Path) -> Ledger:
    return Ledger.open(str(path), catalog=CATALOG, clock=kontingent.FixedClock(T0))


def test_consume_gives_named_events_with_stable_keys(tmp_path: Path) -> None:
    l = campaign(tmp_path / "j")
    assert l.define_consumer("mailer", ["confirmed", "promoted"], at=T0) == kontingent.Done()
    seq_before = l.seq
    l.reserve("r1", customer="a@example.org", lines={"voucher": 1}, at=T0)
    held = l.reserve("r2", customer="b@example.org", lines={"voucher": 1}, at=T0)
    l.confirm(held.reservation, at=T0)
    l.reserve("r3", customer="c@example.org", lines={"voucher": 1}, confirm=True, at=T0)
    assert l.seq == seq_before + 4, "consumer commands emit no events"
    d = l.consume("mailer")
    assert [n.type for n in d] == ["confirmed", "confirmed"]
    assert d.cursor == 0 and d.through == l.seq
    assert all(n.key == f"{d.ledger}-{n.seq}" for n in d)
    assert all(n.current for n in d)
    # A confirmation released meanwhile no longer stands: a mailer skips it.
    l.release(held.reservation, at=T0)
    assert [n.current for n in l.consume("mailer")] == [False, True]
    assert len(d.ledger) == 32
    # Nothing changes until an ack; the same notifications, the same keys.
    again = l.consume("mailer")
    assert [n.key for n in again] == [n.key for n in d]
    first = d.notifications[0]
    l.ack("mailer", first.seq, at=T0)
    assert [n.key for n in l.consume("mailer")] == [d.notifications[1].key]
    l.ack("mailer", d.through, at=T0)
    assert len(l.consume("mailer")) == 0
    assert l.consumer("mailer") == kontingent.Consumer("mailer", ("confirmed", "promoted"), d.through)
    # A limit is honoured, and `through` then stops at the last one given.
    l.define_consumer("audit", ["held", "confirmed"], at=T0)
    page = l.consume("audit", limit=1)
    assert len(page) == 1 and page.through == page.notifications[0].seq
    l.close()
    # The cursor is journaled: a reopened ledger has it, and the same keys.
    l2 = Ledger.open(str(tmp_path / "j"))
    assert l2.consumer("mailer").cursor == d.through
    assert l2.consume("audit", limit=1).notifications[0].key == page.notifications[0].key
    assert [c.name for c in l2.consumers()] == ["audit", "mailer"]
    l2.close()


def test_consumer_errors_have_codes_and_change_nothing(tmp_path: Path) -> None:
    l = campaign(tmp_path / "j")
    l.define_consumer("mailer", ["confirmed"], at=T0)
    digest = l.digest
    cases = [
        (lambda: l.consume("nobody"), "unknown_consumer"),
        (lambda: l.ack("nobody", 0, at=T0), "unknown_consumer"),
        (lambda: l.ack("mailer", l.seq + 1, at=T0), "out_of_range"),
        (lambda: l.ack("mailer", -1, at=T0), "out_of_range"),
        (lambda: l.ack("mailer", "1", at=T0), "invalid_input"),
        (lambda: l.consume("mailer", limit=0), "out_of_range"),
        (lambda: l.consume("mailer", limit=10_001), "out_of_range"),
        (lambda: l.consume(123), "invalid_input"),  # type: ignore[arg-type]
        (lambda: l.consume("x" * 5000), "too_long"),
        (lambda: l.define_consumer("m2", [], at=T0), "empty"),
        (lambda: l.define_consumer("m2", ["confirmed", "confirmed"], at=T0), "duplicate"),
        (lambda: l.define_consumer("m2", ["bought"], at=T0), "invalid_input"),
        (lambda: l.define_consumer("m2", "confirmed", at=T0), "invalid_input"),
    ]
    for call, code in cases:
        with pytest.raises(kontingent.KontingentError) as e:
            call()
        assert e.value.code == code, (code, e.value)
        assert len(str(e.value)) < 600
    assert l.digest == digest
    l.close()


# A consumer that records each key it acts on (fsynced, the "effect") before it
# acks, as SEMANTICS.md asks of a receiver; killed at random moments.
CONSUMER = textwrap.dedent(
    """
    import os, sys, time, kontingent
    from datetime import datetime, timezone
    journal, effects = sys.argv[1], sys.argv[2]
    # The campaign's pinned time: the ledger's own time never moves past it.
    l = kontingent.Ledger.open(journal, clock=kontingent.FixedClock(datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)))
    with open(effects, "a") as out:
        while True:
            d = l.consume("mailer", limit=7)
            for n in d:
                out.write(f"{n.key} {n.type} {n.event.fields.get('reservation')}\\n")
                out.flush()
                os.fsync(out.fileno())
                l.ack("mailer", n.seq)
            if d.through > d.cursor:
                l.ack("mailer", d.through)
            if len(d) == 0:
                if os.path.exists(journal + ".done"):
                    break
                time.sleep(0.005)
    """
)


def test_kill_9_of_the_consumer_loses_nothing_and_dedup_is_exact(tmp_path: Path) -> None:
    rng = random.Random(17)
    journal = tmp_path / "j"
    effects = tmp_path / "effects"
    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER)
    l = campaign(journal)
    l.define_consumer("mailer", ["confirmed", "promoted"], at=T0)
    kills = progressed = 0
    i = 0

    def step() -> None:
        # Churn on a small pool: holds, confirmations, releases and promotions of
        # the waiting list keep making events worth a notification.
        nonlocal i
        i += 1
        op = rng.random()
        if op < 0.4:
            l.reserve(f"r{i}", customer=f"c{i % 40}", lines={"voucher": 1},
                      confirm=rng.random() < 0.3, waitlist=True, at=T0)
            return
        want = "held" if op < 0.7 else "confirmed"
        for r in rng.sample(range(1, i + 1), min(i, 30)):
            v = l.reservation(r)
            if v is not None and v["state"] == want:
                (l.confirm if want == "held" and rng.random() < 0.6 else l.release)(r, at=T0)
                return

    proc = subprocess.Popen([sys.executable, str(script), str(journal), str(effects)])
    try:
        for _ in range(10):
            # The load goes on while the consumer works; it is killed mid-way.
            before = effects.stat().st_size if effects.exists() else 0
            until = time.monotonic() + 0.4 + rng.random() * 0.4
            while time.monotonic() < until:
                step()
                time.sleep(0.002)
            progressed += (effects.stat().st_size if effects.exists() else 0) > before
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            for _ in range(20):
                step()
            proc = subprocess.Popen([sys.executable, str(script), str(journal), str(effects)])
        (tmp_path / "j.done").write_text("")
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert kills >= 9
    assert progressed >= 5, "the consumer must be killed while it works, not before it starts"
    wanted = [e for e in l.iter_events() if e.type in ("confirmed", "promoted")]
    assert len(wanted) > 50, "the run must produce confirmations to deliver"
    seen = [line.split() for line in effects.read_text().splitlines()]
    keys = [s[0] for s in seen]
    # Never an event that does not match, and each effect's key is the event's.
    by_seq = {e.seq: e for e in l.iter_events()}
    for key, kind, _ in seen:
        seq = int(key.rsplit("-", 1)[1])
        assert by_seq[seq].type == kind and kind in ("confirmed", "promoted")
    # At least once, in seq order (a redelivery only repeats a suffix after a crash).
    distinct = list(dict.fromkeys(keys))
    assert [int(k.rsplit("-", 1)[1]) for k in distinct] == [e.seq for e in wanted]
    # A de-duplicating receiver sees each exactly once.
    assert len(set(keys)) == len(wanted)
    print(f"{len(wanted)} notifications, {len(keys) - len(wanted)} redelivered after {kills} kills")
    assert l.consumer("mailer").cursor == l.seq
    l.close()
