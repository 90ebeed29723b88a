"""The Python binding: the API, refusals by reason, threads, processes, kills, hostile input."""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import kontingent as k
from kontingent import _kontingent as native

NOON = datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc)  # 12:00 in Berlin
# The campaign's own morning: catalogs load then, whatever today's date is.
CLOCK = k.FixedClock(NOON - timedelta(hours=1))

CATALOG = {
    "time_zone": "Europe/Berlin",
    "hold": "10m",
    "channels": ["web", "phone"],
    "opens_at": "2026-11-29 12:00",
    "closes_at": "2026-11-29 20:00",
    "pools": [{"name": "zur-post", "capacity": 3}, {"name": "budget", "capacity": 1000}],
    "offers": [
        {"name": "v20", "price": 2000, "draws": {"zur-post": 1, "budget": 20}},
        {"name": "v50", "price": 5000, "draws": {"zur-post": 1, "budget": 50}},
    ],
    "rules": [
        {"name": "max-100-eur", "kind": "customer_limit", "value": 10000},
        {"name": "emstek-only", "kind": "allowed_values", "attribute": "postal_code", "values": ["49685"]},
    ],
}

ZIP = {"postal_code": "49685"}


def ledger():
    return k.Ledger.in_memory(catalog=CATALOG, clock=CLOCK)


def test_every_outcome_and_refusal_is_a_value():
    l = ledger()
    held = l.reserve("a", customer="anna", lines={"v20": 1}, attributes=ZIP, at=NOON)
    assert isinstance(held, k.Held) and held.units == 1
    assert held.expires_at == NOON + timedelta(minutes=10)
    assert l.confirm(held.reservation, at=NOON) == k.Confirmed(held.reservation, 1)
    assert l.release(held.reservation, at=NOON) == k.Released(held.reservation)

    cases = [
        (dict(request_id="b", customer="x", lines={"v20": 1}, attributes=ZIP, at=NOON - timedelta(milliseconds=1)),
         k.NotOpenYet(NOON)),
        (dict(request_id="c", customer="x", lines={"v20": 1}, attributes=ZIP, at=NOON + timedelta(hours=8)),
         k.Closed(NOON + timedelta(hours=8))),
    ]
    for kwargs, want in cases:
        assert ledger().reserve(**kwargs) == k.Refused(want)

    l = ledger()
    assert l.reserve("d", customer="x", lines={"v20": 1}, at=NOON) == k.Refused(
        k.Rule("emstek-only", "postal_code is missing"))
    assert l.reserve("e", customer="x", lines={"v50": 2}, attributes=ZIP, at=NOON) == k.Held(
        1, NOON + timedelta(minutes=10), 2)
    limit = l.reserve("f", customer="x", lines={"v20": 1}, attributes=ZIP, at=NOON)
    match limit:
        case k.Refused(reason=k.CustomerLimit(name=name, limit=lim, used=used)):
            assert (name, lim, used) == ("max-100-eur", 10000, 10000)
        case other:
            pytest.fail(f"unexpected {other}")
    sold = l.reserve("g", customer="y", lines={"v20": 2}, attributes=ZIP, at=NOON)
    assert sold == k.Refused(k.SoldOut("zur-post", 2, 1))
    assert l.reserve("h", customer="y", lines={"v20": 5}, attributes=ZIP, waitlist=True, at=NOON) == k.Waiting(1, 1)
    assert l.leave_waitlist(1, at=NOON) == k.Left(1)
    l.pause(at=NOON)
    assert l.reserve("i", customer="z", lines={"v20": 1}, attributes=ZIP, at=NOON) == k.Refused(k.Paused())
    l.resume(at=NOON)
    # A hold that expired cannot be confirmed: a refusal, not an exception.
    assert l.confirm(1, at=NOON + timedelta(minutes=11)) == k.Refused(k.HoldExpired(NOON + timedelta(minutes=10)))


def test_queries():
    l = ledger()
    l.reserve("a", customer="anna", lines=[("v20", 1), ("v50", 1)], attributes=ZIP, at=NOON)
    assert l.pool("zur-post") == k.Pool("zur-post", 3, 2, 0, 1)
    assert l.available("v20") == 1
    assert l.customer_usage("anna") == {"v20": 1, "v50": 1}
    assert l.reservation(1)["customer"] == "anna"
    assert l.why_unavailable("v20", at=NOON) is None
    assert l.seq > 0 and len(l.digest) == 32
    snap = l.snapshot()
    assert "anna" not in repr(snap)
    assert l.preview("b", customer="bob", lines={"v20": 2}, attributes=ZIP, at=NOON) == k.Refused(
        k.SoldOut("zur-post", 2, 1))


def test_naive_datetimes_and_hostile_input_raise_and_change_nothing():
    l = ledger()
    before = l.digest
    bad = [
        dict(lines={"v20": 1}, at=datetime(2026, 11, 29, 12, 0)),  # naive
        dict(lines={"v20": 2**64}),
        dict(lines={"v20": -1}),
        dict(lines={"v20": 1.5}),
        dict(lines={"v20": True}),
        dict(lines={"nope": 1}),
        dict(lines={}),
        dict(lines={"v20": 1}, channel="fax"),
        dict(lines={"v20": 1}, hold=timedelta(0)),
        dict(lines={"v20": 1}, hold="10m"),
        dict(lines={"v20": 1}, at="2026-11-29"),
        dict(lines="v20"),
        dict(lines=[("v20",)]),
        dict(lines=[(1, 1)]),
        dict(lines=None),
        dict(lines={"v20": 1}, attributes={"postal_code": 49685}),
        dict(lines={"v20": 1}, attributes=["postal_code"]),
        dict(lines={"v20": 1}, channel=None),
    ]
    for kwargs in bad:
        with pytest.raises(k.KontingentError):
            l.reserve("r", customer="x", **kwargs)
    for rid, cust in ((None, "x"), (b"r", "x"), ("r", 7)):
        with pytest.raises(k.InvalidRequestError):
            l.reserve(rid, customer=cust, lines={"v20": 1}, at=NOON)  # type: ignore[arg-type]
    with pytest.raises(k.InvalidRequestError):
        l.reserve("x" * 1_000_000, customer="x", lines={"v20": 1}, at=NOON)
    with pytest.raises(k.InvalidRequestError):
        l.reserve("r", customer="x" * 1_000_000, lines={"v20": 1}, at=NOON)
    with pytest.raises(k.UnknownNameError):
        l.confirm(99, at=NOON)
    with pytest.raises(k.KontingentError):
        l.confirm(-1, at=NOON)
    with pytest.raises(k.KontingentError):
        l.set_capacity("zur-post", 2**70, at=NOON)
    assert l.digest == before


def test_catalog_errors_name_fields_and_lines(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[pools]]\nname = "p"\ncapacity = 1\n[[offers]]\nname = "o"\ndraws = { q = 1 }\n')
    with pytest.raises(k.CatalogError) as e:
        k.Ledger.in_memory(catalog=str(path))
    assert e.value.code == "invalid_catalog"
    assert e.value.issues == [k.CatalogIssue("offers[0].draws.q", 'unknown pool "q"', 6, 11)]


def test_every_native_error_code_maps_to_a_class():
    # The same codes as kontingent::host::ALL_CODES, each mapped on purpose.
    assert sorted(k.errors.CODES) == sorted(native.error_codes())
    for code in native.error_codes():
        cls = k._error_class(code)
        assert issubclass(cls, k.KontingentError)
    assert k._error_class("journal_corrupted") is k.JournalCorruptedError
    assert k._error_class("poisoned") is k.PoisonedError
    assert k._error_class("unknown_offer") is k.UnknownNameError
    assert k._error_class("invalid_catalog") is k.CatalogError


def hot(path):
    return k.Ledger.open(path, catalog={
        "pools": [{"name": "hot", "capacity": 500}],
        "offers": [{"name": "seat", "draws": {"hot": 1}}],
    })


def grab(l, tag, out):
    i = 0
    while True:
        o = l.reserve(f"{tag}-{i}", customer=tag, lines={"seat": 1}, confirm=True)
        i += 1
        if isinstance(o, k.Confirmed):
            out.append(o.reservation)
        else:
            assert o == k.Refused(k.SoldOut("hot", 1, 0))
            return


def test_32_threads_sell_exactly_the_capacity(tmp_path):
    l = hot(tmp_path / "t.journal")
    results = [[] for _ in range(32)]
    threads = [threading.Thread(target=grab, args=(l, f"t{i}", results[i])) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r for rs in results for r in rs]
    assert len(ids) == 500 and len(set(ids)) == 500
    assert l.pool("hot").confirmed == 500


def test_idempotent_repeats_from_threads():
    l = k.Ledger.in_memory(catalog={"pools": [{"name": "p", "capacity": 5}],
                                    "offers": [{"name": "o", "draws": {"p": 1}}]})
    outs = []
    def click():
        outs.append(l.reserve("same", customer="c", lines={"o": 1}))
    ts = [threading.Thread(target=click) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(set(outs)) == 1 and isinstance(outs[0], k.Held)
    assert l.pool("p").held == 1


def _process(path, tag, q):
    l = k.Ledger.open(path)
    out = []
    grab(l, tag, out)
    q.put(out)


def test_four_processes_on_one_journal(tmp_path):
    path = str(tmp_path / "p.journal")
    hot(path)
    q = multiprocessing.get_context("spawn").Queue()
    ps = [multiprocessing.get_context("spawn").Process(target=_process, args=(path, f"p{i}", q)) for i in range(4)]
    for p in ps:
        p.start()
    ids = [r for _ in ps for r in q.get(timeout=120)]
    for p in ps:
        p.join()
        assert p.exitcode == 0
    assert len(ids) == 500 and len(set(ids)) == 500
    assert k.Ledger.open(path).pool("hot").confirmed == 500


WORKER = """
import sys, kontingent as k
l = k.Ledger.open(sys.argv[1])
i = 0
while True:
    o = l.reserve(f"w-{i}", customer="w", lines={"seat": 1}, confirm=True)
    if isinstance(o, k.Confirmed):
        print("ACK", f"w-{i}", o.reservation, flush=True)
    i += 1
"""


def test_a_worker_killed_mid_load_loses_no_acknowledged_reservation(tmp_path):
    path = str(tmp_path / "k.journal")
    l = k.Ledger.open(path, catalog={"pools": [{"name": "hot", "capacity": 10**9}],
                                     "offers": [{"name": "seat", "draws": {"hot": 1}}]})
    del l
    p = subprocess.Popen([sys.executable, "-c", WORKER, path], stdout=subprocess.PIPE, text=True)
    acks = []
    deadline = time.monotonic() + 30
    while len(acks) < 200 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if line.startswith("ACK"):
            acks.append(line.split())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    acks += [l.split() for l in p.stdout.read().splitlines() if l.startswith("ACK")]
    assert len(acks) >= 200
    l = k.Ledger.open(path)
    for _, request_id, res in acks:
        r = l.reservation(int(res))
        assert r is not None and r["state"] == "confirmed", request_id
        # The same request id answers the same after recovery.
        assert l.preview(request_id, customer="w", lines={"seat": 1}, confirm=True) == k.Confirmed(int(res), 1)


def test_checkpoint_and_compact_keep_the_state(tmp_path):
    path = str(tmp_path / "c.journal")
    led = k.Ledger.open(path, catalog=CATALOG, clock=CLOCK)
    held = [led.reserve(f"r{i}", customer=f"c{i}", lines={"v20": 1}, attributes=ZIP, at=NOON) for i in range(2)]
    assert all(isinstance(h, k.Held) for h in held)
    assert led.checkpoint() > 0
    assert led.compact() > 0
    last = led.reserve("after", customer="z", lines={"v20": 1}, attributes=ZIP, at=NOON)
    assert isinstance(last, k.Held)
    digest = led.digest
    del led
    again = k.Ledger.open(path)
    assert again.digest == digest
    assert again.reserve("after", customer="z", lines={"v20": 1}, attributes=ZIP, at=NOON) == last
    with pytest.raises(k.InvalidRequestError):
        ledger().compact()


def test_events_and_deltas_after_a_seq(tmp_path):
    led = k.Ledger.open(str(tmp_path / "e.journal"), catalog=CATALOG, clock=CLOCK)
    start = led.snapshot()
    held = led.reserve("a", customer="anna", lines={"v20": 1}, attributes=ZIP, at=NOON)
    led.confirm(held.reservation, at=NOON)
    events = led.events(after=start["seq"])
    assert [e.type for e in events] == ["held", "confirmed"]
    assert [e.seq for e in events] == [start["seq"] + 1, start["seq"] + 2]
    assert events[0].at == NOON and events[0].fields["reservation"] == held.reservation
    deltas = led.deltas(after=start["seq"])
    assert [d["seq"] for d in deltas] == [e.seq for e in events]
    assert all(d["change"]["type"] == "levels" for d in deltas)
    # The whole stream from the start, gap-free; limits are respected.
    every = led.events(after=0, limit=10_000)
    assert [e.seq for e in every] == list(range(1, led.seq + 1))
    assert len(led.events(after=0, limit=2)) == 2
    for bad in (-1, "3", 2**64, None):
        with pytest.raises(k.InvalidRequestError):
            led.events(after=bad)  # type: ignore[arg-type]
    # After a restart the journal is replayed for them.
    del led
    again = k.Ledger.open(str(tmp_path / "e.journal"))
    assert again.events(after=start["seq"]) == events


def test_reserve_many_answers_each_request_in_one_batch(tmp_path):
    led = k.Ledger.open(str(tmp_path / "m.journal"), catalog=CATALOG, clock=CLOCK)
    reqs = [
        k.Reserve("a", customer="anna", lines={"v20": 1}, attributes=ZIP),
        k.Reserve("b", customer="ben", lines={"v20": 1}, attributes={"postal_code": "10115"}),
        k.Reserve("c", customer="cleo", lines={"v20": -1}, attributes=ZIP),
        k.Reserve("d", customer="dora", lines=[("v20", 1)], attributes=ZIP, confirm=True),
        k.Reserve("e", customer="emil", lines={"v20": 1}, attributes=ZIP),
        k.Reserve("f", customer="fritz", lines={"v20": 1}, attributes=ZIP),
        k.Reserve("a", customer="anna", lines={"v20": 1}, attributes=ZIP),
    ]
    out = led.reserve_many(reqs, at=NOON)
    assert isinstance(out[0], k.Held)
    assert out[1] == k.Refused(k.Rule("emstek-only", out[1].reason.detail))  # type: ignore[union-attr]
    assert isinstance(out[2], k.InvalidRequestError) and out[2].code == "out_of_range"
    assert isinstance(out[3], k.Confirmed)
    assert isinstance(out[4], k.Held)
    assert out[5] == k.Refused(k.SoldOut("zur-post", 1, 0))
    assert out[6] == out[0], "a repeated request id in the same batch answers the same"
    assert led.pool("zur-post").held + led.pool("zur-post").confirmed == 3


def test_shared_vectors_replay_to_their_digests(tmp_path):
    """The journals Rust wrote (and Node's tests read) open here to the same digest."""
    import pathlib
    import shutil
    vectors = pathlib.Path(__file__).resolve().parents[2] / "shell" / "tests" / "vectors"
    journals = sorted(vectors.glob("*.journal"))
    assert len(journals) >= 2
    for j in journals:
        copy = tmp_path / j.name
        shutil.copy(j, copy)
        assert k.Ledger.open(str(copy)).digest == j.with_suffix(".digest").read_text().strip(), j.name
