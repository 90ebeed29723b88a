"""Times and durations between Python and the ledger: aware ``datetime`` and
``timedelta`` on this side, whole milliseconds since the Unix epoch (UTC) on the other,
converted with integers only (a float loses milliseconds, and past year ~3000 whole ones).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from .errors import error


def _ms(at: Optional[datetime]) -> Optional[int]:
    if at is None:
        return None
    if not isinstance(at, datetime):
        raise error("invalid_input", f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise error("invalid_input", f"{at!r} has no time zone; use an aware datetime")
    # Integer arithmetic: a float timestamp loses milliseconds (and, past year
    # ~3000, whole ones).
    ms = (at - _EPOCH) // _MS
    if ms < 0:
        raise error("out_of_range", f"{at!r} is before 1970")
    return ms


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _duration_ms(d: Optional[timedelta]) -> Optional[int]:
    if d is None:
        return None
    if not isinstance(d, timedelta):
        raise error("invalid_input", f"expected a timedelta, got {type(d).__name__}")
    return d // _MS
