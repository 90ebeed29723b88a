"""Issue 15's edges in Python: every hostile argument is a KontingentError with a
stable code (nothing changed); outcomes have a JSON form; close, fork, paging and
restarts with an unchanged catalog behave as a careful user expects."""

import json
import os
import subprocess
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

import kontingent as k

ROOT = Path(__file__).resolve().parents[2]

NOON = datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc)
CLOCK = k.FixedClock(NOON - timedelta(hours=1))
CATALOG = {
    "pools": [{"name": "hall", "capacity": 2}],
    "offers": [{"name": "seat", "draws": {"hall": 1}, "waitlist": "strict"}],
}


def ledger():
    return k.Ledger.in_memory(catalog=CATALOG, clock=CLOCK)


def code_of(call):
    with pytest.raises(k.KontingentError) as e:
        call()
    return e.value.code


@pytest.mark.parametrize("call, code", [
    (lambda l: l.reservation(2**70), "out_of_range"),
    (lambda l: l.reservation(-1), "out_of_range"),
    (lambda l: l.reservation("1"), "invalid_input"),
    (lambda l: l.slots("seat", count=-1), "out_of_range"),
    (lambda l: l.pool(123), "invalid_input"),
    (lambda l: l.available(None), "invalid_input"),
    (lambda l: l.confirm(2**70, at=NOON), "out_of_range"),
    (lambda l: l.confirm("1", at=NOON), "invalid_input"),
    (lambda l: l.release(True, at=NOON), "invalid_input"),
    (lambda l: l.leave_waitlist(2**64, at=NOON), "out_of_range"),
    (lambda l: l.set_capacity("hall", 2**64, at=NOON), "out_of_range"),
    (lambda l: l.load_catalog("/nonexistent/catalog.toml", at=NOON), "invalid_catalog"),
    (lambda l: l.load_catalog(42, at=NOON), "invalid_input"),
    (lambda l: l.reserve("\ud800", customer="x", lines={"seat": 1}, at=NOON), "invalid_input"),
    (lambda l: l.reserve("r", customer="x", lines={"seat": 1}, at=datetime(2026, 11, 29, 12)), "invalid_input"),
])
def test_hostile_arguments_get_their_code_and_change_nothing(call, code):
    l = ledger()
    before = (l.digest, l.seq)
    assert code_of(lambda: call(l)) == code
    assert (l.digest, l.seq) == before


@pytest.mark.parametrize("value", [10**5000, -(10**5000), 2**200], ids=["10^5000", "-10^5000", "2^200"])
def test_a_huge_int_is_out_of_range_with_a_short_message(value):
    # Python refuses to print an int of over 4,300 digits: the message gives its size.
    l = ledger()
    for call in (lambda: l.confirm(value, at=NOON), lambda: l.reservation(value),
                 lambda: l.set_capacity("hall", value, at=NOON), lambda: l.slots("seat", count=value)):
        with pytest.raises(k.KontingentError) as e:
            call()
        assert e.value.code == "out_of_range" and len(str(e.value)) < 100, str(e.value)[:200]
        assert "-bit number" in str(e.value)


def test_catalog_files_edges_from_python(tmp_path):
    """What the core refuses in a catalog file reaches Python whole: a CatalogError
    with its issues, short messages, nothing loaded."""
    def issues_of(name, text):
        path = tmp_path / name
        path.write_text(text)
        l = ledger()
        before = (l.digest, l.seq)
        with pytest.raises(k.CatalogError) as e:
            l.load_catalog(path, at=NOON)
        assert e.value.code == "invalid_catalog" and (l.digest, l.seq) == before
        assert len(str(e.value)) < 2_000
        return [(i.path, i.message) for i in e.value.issues]

    # An empty TOML file is refused as an empty JSON one is.
    empty = "pools: the catalog defines no pool: give at least one in pools (or a slot template in slots)"
    for name, text in (("empty.toml", ""), ("empty.json", "{}")):
        assert [f"{p}: {m}" for p, m in issues_of(name, text)] == [empty]
    # A 5 MB time zone name: a short message naming the field.
    [(path, msg)] = issues_of("tz.toml", f'time_zone = "{"E" * (5 << 20)}"\n[[pools]]\nname = "p"\ncapacity = 1\n')
    assert path == "time_zone" and "5242880 bytes is longer than the limit of 64" in msg
    # A duplicate key names its field.
    [(path, msg)] = issues_of("dup.toml", '[[pools]]\nname = "p"\ncapacity = 1\ncapacity = 2\n')
    assert path == "pools[0].capacity", (path, msg)
    # Two type errors are both reported: one does not hide the other.
    got = issues_of("types.toml", '[[pools]]\nname = "p"\ncapacity = "many"\n'
                                  '[[offers]]\nname = 7\ndraws = { p = 1 }\n')
    assert {p for p, _ in got} == {"pools[0].capacity", "offers[0].name"}, got


def test_a_huge_offer_name_in_a_request_is_too_long():
    l = ledger()
    before = (l.digest, l.seq)
    with pytest.raises(k.KontingentError) as e:
        l.reserve("r", customer="c", lines={"x" * (1 << 20): 1}, at=NOON)
    assert e.value.code == "too_long" and len(str(e.value)) < 200, str(e.value)[:300]
    assert (l.digest, l.seq) == before


def test_a_lone_surrogate_is_named_as_such():
    with pytest.raises(k.InvalidRequestError) as e:
        ledger().reserve("\ud800", customer="x", lines={"seat": 1}, at=NOON)
    assert "lone surrogate" in str(e.value) and "got str" not in str(e.value)


def test_a_catalog_file_that_is_missing_or_not_utf8_names_the_file(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[[pools]]\nname = "Caf\xe9"\ncapacity = 1\n'.encode("latin-1"))
    for path in (tmp_path / "missing.toml", bad):
        with pytest.raises(k.CatalogError) as e:
            k.Ledger.in_memory(catalog=path, clock=CLOCK)
        assert str(path) in str(e.value)
        assert e.value.issues and "cannot read" in e.value.issues[0].message


def test_outcomes_and_events_have_the_wire_json_form():
    l = k.Ledger.in_memory(catalog={**CATALOG, "pools": [{"name": "hall", "capacity": 1}]}, clock=CLOCK)
    held = l.reserve("a", customer="anna", lines={"seat": 1}, at=NOON)
    assert held.to_dict() == {"status": "held", "reservation": held.reservation,
                              "expires_at": int(held.expires_at.timestamp()) * 1000, "units": 1}
    waiting = l.reserve("b", customer="ben", lines={"seat": 1}, waitlist=True, at=NOON)
    sold = l.reserve("c", customer="cem", lines={"seat": 1}, at=NOON)
    assert sold.to_dict() == {"status": "refused", "reason": "sold_out", "pool": "hall", "requested": 1, "left": 0}
    assert waiting.to_dict() == {"status": "waiting", "entry": waiting.entry, "position": 1}
    assert l.confirm(held.reservation, at=NOON).to_dict() == {"status": "confirmed", "reservation": held.reservation, "units": 1}
    assert l.tick(at=NOON).to_dict() == {"status": "done"}
    # Every outcome decoded from the native wire dict gives that dict back.
    from kontingent.outcomes import _outcome
    for wire in ({"status": "released", "reservation": 3}, {"status": "left", "entry": 2},
                 {"status": "promoted", "entry": 2, "reservation": 5},
                 {"status": "refused", "reason": "not_open_yet", "opens_at": 1_795_950_000_000},
                 {"status": "refused", "reason": "customer_limit", "name": "max", "limit": 2, "used": 2},
                 {"status": "refused", "reason": "rule", "name": "zip", "detail": "postal_code"},
                 {"status": "refused", "reason": "paused"}):
        assert _outcome(wire).to_dict() == wire
    events = l.events()
    assert json.loads(json.dumps([e.to_dict() for e in events])) == [e.to_dict() for e in events]
    assert events[-1].to_dict()["kind"]["type"] == "confirmed"


def test_iter_events_pages_through_everything():
    l = k.Ledger.in_memory(catalog={"pools": [{"name": "hall", "capacity": 5000}],
                                    "offers": [{"name": "seat", "draws": {"hall": 1}}]}, clock=CLOCK)
    for i in range(2_500):
        l.reserve(f"r{i}", customer=f"c{i}", lines={"seat": 1}, at=NOON)
    assert len(l.events()) == 1000, "one page"
    every = list(l.iter_events(page=700))
    assert [e.seq for e in every] == list(range(1, l.seq + 1))


def test_close_and_with_block(tmp_path):
    path = tmp_path / "j.journal"
    with k.Ledger.open(path, catalog=CATALOG, clock=CLOCK) as l:
        l.reserve("a", customer="anna", lines={"seat": 1})
    with pytest.raises(k.InvalidRequestError) as e:
        l.reserve("b", customer="ben", lines={"seat": 1})
    assert e.value.code == "misuse" and "closed" in str(e.value)
    l.close()  # twice is fine
    again = k.Ledger.open(path, clock=CLOCK)
    assert again.pool("hall").held == 1
    again.close()


def test_a_restart_with_the_same_catalog_journals_nothing(tmp_path):
    path = tmp_path / "j.journal"
    k.Ledger.open(path, catalog=CATALOG, clock=CLOCK).close()
    size = path.stat().st_size
    l = k.Ledger.open(path, catalog=CATALOG, clock=CLOCK)
    assert path.stat().st_size == size and l.seq == 3, "no record, no catalog_loaded event"
    l.close()
    changed = {**CATALOG, "pools": [{"name": "hall", "capacity": 3}]}
    l = k.Ledger.open(path, catalog=changed, clock=CLOCK)
    assert path.stat().st_size > size and l.pool("hall").capacity == 3
    l.close()


def test_a_handle_inherited_through_fork_says_so(tmp_path):
    l = k.Ledger.open(tmp_path / "j.journal", catalog=CATALOG, clock=CLOCK)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            l.reserve("child", customer="c", lines={"seat": 1})
            msg = "no error"
        except k.KontingentError as e:
            msg = f"{e.code}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    msg = os.read(r, 1000).decode()
    assert msg.startswith("misuse: ") and "fork()" in msg, msg
    # The parent's handle is untouched.
    assert l.reserve("parent", customer="p", lines={"seat": 1}).status == "held"
    l.close()


def test_recovery_says_a_torn_group_commit_was_cut(tmp_path):
    """A hole in the last group commit (a page that never reached the disk, a later
    one that did) is cut on open, and `recovery` says so; `kontingent verify` names it."""
    path = tmp_path / "j.journal"
    catalog = {"pools": [{"name": "hall", "capacity": 10_000}],
               "offers": [{"name": "seat", "draws": {"hall": 1}}]}
    l = k.Ledger.open(path, catalog=catalog, clock=CLOCK)
    l.reserve("first", customer="anna", lines={"seat": 1}, at=NOON)
    start = path.stat().st_size
    batch = [k.Reserve(f"r{i}", customer=f"c{i}", lines={"seat": 1}) for i in range(300)]
    assert all(isinstance(o, k.Held) for o in l.reserve_many(batch, at=NOON))
    seq = l.seq
    l.close()
    data = bytearray(path.read_bytes())
    page = (start // 4096 + 1) * 4096
    assert page + 4096 < len(data), "the group commit spans pages"
    data[page:page + 4096] = bytes(4096)
    path.write_bytes(bytes(data))
    # Built here (a no-op when it is fresh), so a stale binary is never what is tested.
    subprocess.run(["cargo", "build", "-q", "--locked", "-p", "kontingent-cli"], cwd=ROOT, check=True)
    cli = ROOT / "target" / "debug" / "kontingent"
    out = subprocess.run([str(cli), "verify", str(path)], capture_output=True, text=True)
    assert out.returncode == 1 and "torn group commit" in out.stdout, out.stdout
    again = k.Ledger.open(path, clock=CLOCK)
    r = again.recovery
    assert r.torn_batch and r.torn_records > 0 and r.torn_bytes == len(data) - path.stat().st_size, r
    assert again.pool("hall").held >= 1 and again.seq < seq
    assert k.Ledger.in_memory(clock=CLOCK).recovery.torn_batch is False
    again.close()
