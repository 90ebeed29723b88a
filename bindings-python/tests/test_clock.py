"""Clocks: every call without ``at=`` reads the ledger's clock and nothing else; a
reading never rewinds the ledger; explicit and clock times mix by one rule."""

from datetime import datetime, timedelta, timezone

import pytest

import kontingent as k

NOON = datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc)  # the opening, 12:00 in Berlin
CATALOG = {
    "time_zone": "Europe/Berlin", "hold": "10m", "opens_at": "2026-11-29 12:00",
    "pools": [{"name": "p", "capacity": 5}],
    "offers": [{"name": "o", "draws": {"p": 1}}],
}


def test_calls_without_at_read_the_ledgers_clock(tmp_path):
    clock = k.ManualClock(NOON - timedelta(minutes=1))
    led = k.Ledger.open(str(tmp_path / "c.journal"), catalog=CATALOG, clock=clock)
    assert led.clock is clock
    assert led.now == NOON - timedelta(minutes=1), "the catalog loads at the clock's now"
    assert led.reserve("early", customer="a", lines={"o": 1}) == k.Refused(k.NotOpenYet(NOON))
    assert led.why_unavailable("o") == k.NotOpenYet(NOON), "queries read the clock too"
    assert isinstance(led.preview("x", customer="a", lines={"o": 1}), k.Refused)
    clock.advance(timedelta(minutes=1, seconds=5))
    assert led.why_unavailable("o") is None
    held = led.reserve("on-time", customer="a", lines={"o": 1})
    assert isinstance(held, k.Held) and held.expires_at == NOON + timedelta(minutes=10, seconds=5)
    # reserve_many reads it once for the batch.
    out = led.reserve_many([k.Reserve("m1", customer="b", lines={"o": 1})])
    assert isinstance(out[0], k.Held) and out[0].expires_at == held.expires_at


def test_a_reading_behind_the_ledger_is_a_floor_not_a_rewind():
    clock = k.ManualClock(NOON + timedelta(seconds=10))
    led = k.Ledger.in_memory(catalog=CATALOG, clock=clock)
    clock.set(NOON - timedelta(hours=1))
    held = led.reserve("a", customer="a", lines={"o": 1})
    assert isinstance(held, k.Held)
    assert held.expires_at == NOON + timedelta(seconds=10, minutes=10), "stamped at the ledger's time"
    assert led.now == NOON + timedelta(seconds=10)


def test_the_trap_of_a_catalog_loaded_now_then_an_older_explicit_time_names_both_times():
    # A catalog loaded "now" on one day, then a request at an explicit earlier time:
    # a clear error naming both times, and nothing changes.
    led = k.Ledger.in_memory(catalog=CATALOG, clock=k.FixedClock(NOON + timedelta(days=2)))
    digest = led.digest
    with pytest.raises(k.TimeWentBackwardsError) as e:
        led.reserve("r", customer="a", lines={"o": 1}, at=NOON)
    ms = lambda t: (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    assert str(ms(NOON)) in e.value.message and str(ms(NOON + timedelta(days=2))) in e.value.message
    assert led.digest == digest
    # The documented ways out: pin the clock, or load the catalog at the campaign's time.
    led = k.Ledger.in_memory(catalog=CATALOG, at=NOON - timedelta(hours=1))
    assert led.now == NOON - timedelta(hours=1)
    assert isinstance(led.reserve("r", customer="a", lines={"o": 1}, at=NOON), k.Held)


def test_clocks_themselves():
    assert isinstance(k.SystemClock()(), datetime) and k.SystemClock()().tzinfo is not None
    assert k.FixedClock(NOON)() == NOON
    c = k.ManualClock(NOON)
    c.advance(timedelta(milliseconds=1))
    assert c() == NOON + timedelta(milliseconds=1)
    for bad in (lambda: k.FixedClock(datetime(2026, 1, 1)), lambda: k.ManualClock("noon")):  # type: ignore[arg-type]
        with pytest.raises((TypeError, ValueError)):
            bad()
    with pytest.raises(k.InvalidRequestError):
        k.Ledger.in_memory(clock=42)  # type: ignore[arg-type]
    led = k.Ledger.in_memory(clock=lambda: "not a datetime")  # type: ignore[arg-type, return-value]
    with pytest.raises(k.InvalidRequestError):
        led.tick()
    assert isinstance(k.Ledger.in_memory().clock, k.SystemClock)


def test_times_convert_exactly_as_integers():
    # Through floats these lose a millisecond (and, past year ~3000, whole ones).
    led = k.Ledger.in_memory(catalog={"pools": [{"name": "p", "capacity": 1}],
                                      "offers": [{"name": "o", "draws": {"p": 1}}]},
                             at=datetime(1978, 8, 10, 9, 8, 42, 761000, tzinfo=timezone.utc))
    assert led.now == datetime(1978, 8, 10, 9, 8, 42, 761000, tzinfo=timezone.utc)
    far = datetime(3999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    held = led.reserve("r", customer="a", lines={"o": 1}, at=far, hold=timedelta(milliseconds=1))
    assert isinstance(held, k.Held) and held.expires_at == far + timedelta(milliseconds=1)
    assert led.now == far
