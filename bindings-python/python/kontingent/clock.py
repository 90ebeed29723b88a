"""Clocks: where a ledger takes "now" from for every call made without ``at=``.

The ledger itself never reads a clock; every command carries its time. A
:class:`Ledger` opened with ``clock=`` reads that clock, and nothing else, for
commands and queries without ``at=``. A clock is any callable returning an aware
``datetime``; the three here cover the usual needs:

- :class:`SystemClock`, the default: the wall clock. It is the only read of the wall
  clock in this package (a ledger on the default clock reads the same clock
  natively, without a call into Python).
- :class:`FixedClock`: always the same time (tests, a report that reads the same on
  any day).
- :class:`ManualClock`: moved by hand (tests, rehearsing a campaign at its own dates).

A reading is a floor, never a rewind: a command stamped "now" takes the clock's
reading or the ledger's time, whichever is later (``docs/SEMANTICS.md``, "Time").

>>> from datetime import datetime, timedelta, timezone
>>> clock = ManualClock(datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc))
>>> clock.advance(timedelta(minutes=5))
>>> clock().isoformat()
'2026-11-29T11:05:00+00:00'
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

__all__ = ["Clock", "SystemClock", "FixedClock", "ManualClock"]

#: What ``Ledger.open(..., clock=...)`` takes: a callable returning an aware datetime.
Clock = Callable[[], datetime]


def _aware(at: datetime, what: str) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError(f"{what}: expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what}: {at!r} has no time zone; use an aware datetime")
    return at


class SystemClock:
    """The wall clock, in UTC: the default clock of every ledger."""

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that always answers ``at``."""

    def __init__(self, at: datetime):
        self._at = _aware(at, "FixedClock")

    def __call__(self) -> datetime:
        return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at!r})"


class ManualClock:
    """A clock standing at ``at`` until it is moved; safe to move from any thread."""

    def __init__(self, at: datetime):
        self._at = _aware(at, "ManualClock")
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Stand at ``at`` (earlier too: the ledger's stamps still never go back)."""
        at = _aware(at, "ManualClock.set")
        with self._lock:
            self._at = at

    def advance(self, by: timedelta) -> None:
        """Move forward by ``by``."""
        if not isinstance(by, timedelta):
            raise TypeError(f"ManualClock.advance: expected a timedelta, got {type(by).__name__}")
        with self._lock:
            self._at = self._at + by

    def __repr__(self) -> str:
        return f"ManualClock({self():!r})"
