"""kontingent: a small, fast, durable, linearizable ledger of quotas.

A campaign says *yes* only when a unit really exists, and *no*, with a reason a UI
can show, otherwise. Outcomes (including every refusal) are values you can
``match`` on; invalid requests and broken journals raise :class:`KontingentError`.

>>> import kontingent
>>> ledger = kontingent.Ledger.in_memory(catalog={
...     "pools": [{"name": "zur-post", "capacity": 1}],
...     "offers": [{"name": "voucher", "draws": {"zur-post": 1}}],
... })
>>> ledger.reserve("form-1", customer="anna", lines={"voucher": 1})
Held(reservation=1, expires_at=..., units=1)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterable, Mapping, Optional, Union, cast

from . import _kontingent as _native
from .clock import Clock, FixedClock, ManualClock, SystemClock

__all__ = [
    "Ledger", "Outcome", "Held", "Confirmed", "Released", "Waiting", "Left", "Promoted",
    "Refused", "Done", "Refusal", "SoldOut", "CustomerLimit", "NotOpenYet", "Closed",
    "Paused", "Rule", "HoldExpired", "Pool", "Slot", "KontingentError", "CatalogError",
    "CatalogIssue", "InvalidRequestError", "UnknownNameError", "RequestIdReusedError",
    "TimeWentBackwardsError", "JournalError", "JournalCorruptedError", "PoisonedError", "Event", "Reserve",
    "Clock", "SystemClock", "FixedClock", "ManualClock",
]

# ----------------------------------------------------------------------------- errors


class KontingentError(Exception):
    """Base of every kontingent error. ``code`` is stable snake_case."""

    code: str

    def __init__(self, code: str, message: str, details: Optional[Mapping[str, Any]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details or {})


class InvalidRequestError(KontingentError, ValueError):
    """The command is invalid; nothing changed."""


class UnknownNameError(InvalidRequestError, LookupError):
    """An unknown pool, offer, reservation, waiting entry or channel."""


class RequestIdReusedError(InvalidRequestError):
    """The request id was already used for a different request."""


class TimeWentBackwardsError(InvalidRequestError):
    """The command is older than the previous one."""


@dataclass(frozen=True)
class CatalogIssue:
    path: str
    message: str
    line: Optional[int] = None
    column: Optional[int] = None


class CatalogError(InvalidRequestError):
    """A catalog has errors; ``issues`` lists every one with its field and line."""

    @property
    def issues(self) -> list[CatalogIssue]:
        out = []
        for item in self.details.get("issues", []):
            out.append(CatalogIssue(*item))
        return out


class JournalError(KontingentError, OSError):
    """The journal could not be read or written (I/O, not a journal)."""


class JournalCorruptedError(JournalError):
    """A record in the middle of the journal is damaged; ``offset`` names it."""

    @property
    def offset(self) -> int:
        return int(self.details["offset"])


class PoisonedError(JournalError):
    """A write or sync failed earlier; reopen the ledger."""


_UNKNOWN = {"unknown_pool", "unknown_offer", "unknown_reservation", "unknown_wait_entry", "unknown_channel"}


def _error_class(code: str) -> type[KontingentError]:
    if code in _UNKNOWN:
        return UnknownNameError
    return {
        "invalid_catalog": CatalogError,
        "request_id_reused": RequestIdReusedError,
        "time_went_backwards": TimeWentBackwardsError,
        "journal_corrupted": JournalCorruptedError,
        "poisoned": PoisonedError,
        "io": JournalError,
        "bad_header": JournalError,
    }.get(code, InvalidRequestError)


def _raise(e: _native.NativeError) -> "KontingentError":
    code, message, details = e.args
    return _error_class(code)(code, message, details)


# --------------------------------------------------------------------------- time


def _ms(at: Optional[datetime]) -> Optional[int]:
    if at is None:
        return None
    if not isinstance(at, datetime):
        raise InvalidRequestError("invalid_input", f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidRequestError("naive_datetime", f"{at!r} has no time zone; use an aware datetime")
    # Integer arithmetic: a float timestamp loses milliseconds (and, past year
    # ~3000, whole ones).
    ms = (at - _EPOCH) // _MS
    if ms < 0:
        raise InvalidRequestError("out_of_range", f"{at!r} is before 1970")
    return ms


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _duration_ms(d: Optional[timedelta]) -> Optional[int]:
    if d is None:
        return None
    if not isinstance(d, timedelta):
        raise InvalidRequestError("invalid_input", f"expected a timedelta, got {type(d).__name__}")
    return d // _MS


# ------------------------------------------------------------------------ outcomes


class Refusal:
    """Why a request was refused."""

    code: ClassVar[str]


@dataclass(frozen=True)
class SoldOut(Refusal):
    code: ClassVar[str] = "sold_out"
    pool: str
    requested: int
    left: int


@dataclass(frozen=True)
class CustomerLimit(Refusal):
    code: ClassVar[str] = "customer_limit"
    name: str
    limit: int
    used: int


@dataclass(frozen=True)
class NotOpenYet(Refusal):
    code: ClassVar[str] = "not_open_yet"
    opens_at: datetime


@dataclass(frozen=True)
class Closed(Refusal):
    code: ClassVar[str] = "closed"
    closed_at: datetime


@dataclass(frozen=True)
class Paused(Refusal):
    code: ClassVar[str] = "paused"


@dataclass(frozen=True)
class Rule(Refusal):
    code: ClassVar[str] = "rule"
    name: str
    detail: str


@dataclass(frozen=True)
class HoldExpired(Refusal):
    code: ClassVar[str] = "hold_expired"
    expired_at: datetime


class Outcome:
    """The result of a valid command."""


@dataclass(frozen=True)
class Held(Outcome):
    reservation: int
    expires_at: datetime
    units: int


@dataclass(frozen=True)
class Confirmed(Outcome):
    reservation: int
    units: int


@dataclass(frozen=True)
class Released(Outcome):
    reservation: int


@dataclass(frozen=True)
class Waiting(Outcome):
    entry: int
    position: int


@dataclass(frozen=True)
class Left(Outcome):
    entry: int


@dataclass(frozen=True)
class Promoted(Outcome):
    entry: int
    reservation: int


@dataclass(frozen=True)
class Refused(Outcome):
    reason: Refusal


@dataclass(frozen=True)
class Done(Outcome):
    pass


@dataclass(frozen=True)
class Event:
    """One numbered change: ``type`` is e.g. ``held``, ``confirmed``, ``released``,
    ``expired``, ``capacity_changed``; ``fields`` holds the rest (ids, pools)."""
    seq: int
    at: datetime
    type: str
    fields: Mapping[str, Any]


def _event(d: Mapping[str, Any]) -> Event:
    kind = dict(d["kind"])
    return Event(int(d["seq"]), _dt(int(d["at"])), str(kind.pop("type")), kind)


def _check_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequestError("invalid_input", f"{name} must be a non-negative int, not {value!r}")


def _refusal(d: Mapping[str, Any]) -> Refusal:
    r = d["reason"]
    if r == "sold_out":
        return SoldOut(d["pool"], d["requested"], d["left"])
    if r == "customer_limit":
        return CustomerLimit(d["name"], d["limit"], d["used"])
    if r == "not_open_yet":
        return NotOpenYet(_dt(d["opens_at"]))
    if r == "closed":
        return Closed(_dt(d["closed_at"]))
    if r == "paused":
        return Paused()
    if r == "rule":
        return Rule(d["name"], d["detail"])
    if r == "hold_expired":
        return HoldExpired(_dt(d["expired_at"]))
    raise KontingentError("invalid_input", f"unknown refusal {r!r}")


def _outcome(d: Mapping[str, Any]) -> Outcome:
    s = d["status"]
    if s == "held":
        return Held(d["reservation"], _dt(d["expires_at"]), d["units"])
    if s == "confirmed":
        return Confirmed(d["reservation"], d["units"])
    if s == "released":
        return Released(d["reservation"])
    if s == "waiting":
        return Waiting(d["entry"], d["position"])
    if s == "left":
        return Left(d["entry"])
    if s == "promoted":
        return Promoted(d["entry"], d["reservation"])
    if s == "refused":
        return Refused(_refusal(d))
    return Done()


def _from_tuple(t: tuple[Any, ...]) -> Outcome:
    kind = t[0]
    if kind == "held":
        return Held(t[1], _dt(t[2]), t[3])
    if kind == "confirmed":
        return Confirmed(t[1], t[2])
    return _outcome(t[1])


@dataclass(frozen=True)
class Pool:
    name: str
    capacity: int
    held: int
    confirmed: int
    available: int


@dataclass(frozen=True)
class Slot:
    offer: str
    starts_at: datetime
    ends_at: datetime
    available: int


# -------------------------------------------------------------------------- ledger

CatalogSource = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass(frozen=True)
class Reserve:
    """One request for :meth:`Ledger.reserve_many` (the arguments of :meth:`Ledger.reserve`)."""
    request_id: str
    customer: str
    lines: Union[Mapping[str, int], Iterable[tuple[str, int]]]
    channel: str = "web"
    attributes: Optional[Mapping[str, str]] = None
    hold: Optional[timedelta] = None
    confirm: bool = False
    up_to: bool = False
    waitlist: bool = False


def _compile(catalog: CatalogSource) -> dict[str, Any]:
    try:
        if isinstance(catalog, Mapping):
            return cast(dict[str, Any], _native.compile_catalog(json.dumps(catalog), "json", "<dict>"))
        path = os.fspath(catalog)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fmt = "json" if path.endswith(".json") else "toml"
        return cast(dict[str, Any], _native.compile_catalog(text, fmt, path))
    except _native.NativeError as e:
        raise _raise(e) from None


class Ledger:
    """A quota ledger: on a journal file (durable, shared by processes) or in memory.

    Thread-safe; every method that changes the ledger returns once its record is on
    stable storage (``durability="full"``), with concurrent callers sharing one sync.
    Times are aware ``datetime`` objects. ``at=None`` means "now": the ledger's clock
    (``clock=``, default :class:`SystemClock`) is read, and the command takes that
    time or the ledger's own time, whichever is later (``docs/SEMANTICS.md``, "Time").
    """

    def __init__(self, native: Any, clock: Optional[Clock] = None):
        self._n = native
        # The default clock is read natively (the same wall clock, no call into Python).
        self._clock = None if clock is None or isinstance(clock, SystemClock) else clock
        if self._clock is not None and not callable(self._clock):
            raise InvalidRequestError("invalid_input", "clock: expected a callable returning a datetime")

    @classmethod
    def open(cls, path: Union[str, "os.PathLike[str]"], *, catalog: Optional[CatalogSource] = None,
             durability: str = "full", ledger: str = "default", clock: Optional[Clock] = None,
             at: Optional[datetime] = None) -> "Ledger":
        """Open (or create) a ledger on a journal file, replaying it; optionally load a catalog.

        ``clock`` is where every call without ``at=`` takes its time (default: the wall
        clock); pin it in tests and rehearsals. The catalog is loaded at ``at``, or at
        the clock's now.

        ``path`` may also be a ``postgresql://`` URL: then the ledger named ``ledger`` lives
        in an ordered log in PostgreSQL, shared by every app server that opens it (each
        answer after its batch's COMMIT)."""
        try:
            me = cls(_native.NativeLedger.open(os.fspath(path), durability, ledger), clock)
        except _native.NativeError as e:
            raise _raise(e) from None
        if catalog is not None:
            me.load_catalog(catalog, at=at)
        return me

    @classmethod
    def in_memory(cls, *, catalog: Optional[CatalogSource] = None, clock: Optional[Clock] = None,
                  at: Optional[datetime] = None) -> "Ledger":
        """A ledger that keeps nothing on disk (tests, previews, ad-hoc scripts);
        ``clock`` and ``at`` as in :meth:`open`."""
        try:
            me = cls(_native.NativeLedger.open(None, "none"), clock)
        except _native.NativeError as e:
            raise _raise(e) from None
        if catalog is not None:
            me.load_catalog(catalog, at=at)
        return me

    @property
    def clock(self) -> Clock:
        """The clock that calls without ``at=`` read."""
        return self._clock or SystemClock()

    def _time(self, at: Optional[datetime]) -> tuple[Optional[int], bool]:
        """``(ms, clocked)`` for the native side: an exact time, a reading of this
        ledger's clock (``clocked``), or ``None`` for the native wall clock."""
        if at is not None:
            return _ms(at), False
        if self._clock is None:
            return None, False
        reading = self._clock()
        if not isinstance(reading, datetime):
            raise InvalidRequestError("invalid_input", f"clock: returned {type(reading).__name__}, not a datetime")
        return _ms(reading), True

    def _submit(self, action: dict[str, Any], at: Optional[datetime]) -> Outcome:
        ms, clocked = self._time(at)
        try:
            return _outcome(self._n.submit(ms, action, clocked)["outcome"])
        except _native.NativeError as e:
            raise _raise(e) from None

    def _query(self, what: str, **kw: Any) -> Any:
        try:
            return self._n.query(what, **kw)
        except _native.NativeError as e:
            raise _raise(e) from None

    def _query_at(self, what: str, at: Optional[datetime], **kw: Any) -> Any:
        ms, clocked = self._time(at)
        return self._query(what, at=ms, clocked=clocked, **kw)

    # ---- commands

    def load_catalog(self, catalog: CatalogSource, *, at: Optional[datetime] = None) -> Outcome:
        """Load a catalog (file path or dict in the file schema), or change the loaded one."""
        compiled = _compile(catalog)
        return self._submit({"type": "load_catalog", **compiled}, at)

    def reserve(self, request_id: str, *, customer: str,
                lines: Union[Mapping[str, int], Iterable[tuple[str, int]]], channel: str = "web",
                attributes: Optional[Mapping[str, str]] = None, hold: Optional[timedelta] = None,
                confirm: bool = False, up_to: bool = False, waitlist: bool = False,
                at: Optional[datetime] = None) -> Outcome:
        """Ask for units: all lines or none. Repeating ``request_id`` returns the first outcome."""
        ms, clocked = self._time(at)
        try:
            return _from_tuple(self._n.reserve(
                request_id, customer, lines, channel, attributes,
                None if hold is None else _duration_ms(hold), bool(confirm), bool(up_to),
                bool(waitlist), ms, clocked))
        except _native.NativeError as e:
            raise _raise(e) from None

    def reserve_many(self, requests: Iterable["Reserve"], *,
                     at: Optional[datetime] = None) -> list[Union[Outcome, KontingentError]]:
        """Submit many requests as one batch: one journal write and one sync for all
        (bulk imports, servers that batch). Returns, in order, each request's outcome,
        or its error as an exception *instance* (not raised), so one bad request does
        not cost the others their answers."""
        tuples = [(r.request_id, r.customer, r.lines, r.channel, r.attributes,
                   None if r.hold is None else _duration_ms(r.hold), r.confirm, r.up_to, r.waitlist)
                  for r in requests]
        ms, clocked = self._time(at)
        try:
            results = self._n.reserve_many(ms, tuples, clocked)
        except _native.NativeError as e:
            raise _raise(e) from None
        return [_raise(r) if isinstance(r, _native.NativeError) else _from_tuple(r) for r in results]

    def confirm(self, reservation: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "confirm", "reservation": reservation}, at)

    def release(self, reservation: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "release", "reservation": reservation}, at)

    def leave_waitlist(self, entry: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "leave_waitlist", "entry": entry}, at)

    def set_capacity(self, pool: str, capacity: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "set_capacity", "pool": pool, "capacity": capacity}, at)

    def pause(self, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "pause"}, at)

    def resume(self, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "resume"}, at)

    def tick(self, *, at: Optional[datetime] = None) -> Outcome:
        """Advance time (expiring due holds) without a request."""
        return self._submit({"type": "tick"}, at)

    # ---- queries

    def preview(self, request_id: str, *, customer: str,
                lines: Union[Mapping[str, int], Iterable[tuple[str, int]]], channel: str = "web",
                attributes: Optional[Mapping[str, str]] = None, hold: Optional[timedelta] = None,
                confirm: bool = False, up_to: bool = False, waitlist: bool = False,
                at: Optional[datetime] = None) -> Outcome:
        """The outcome :meth:`reserve` would give at ``at`` (default: now, as
        :meth:`reserve` would be stamped), without changing anything."""
        ms, clocked = self._time(at)
        try:
            return _from_tuple(self._n.preview(
                request_id, customer, lines, channel, attributes,
                None if hold is None else _duration_ms(hold), bool(confirm), bool(up_to),
                bool(waitlist), ms, clocked))
        except _native.NativeError as e:
            raise _raise(e) from None

    def pool(self, name: str) -> Optional[Pool]:
        p = self._query("pool", name=name)
        return None if p is None else Pool(p["name"], p["capacity"], p["held"], p["confirmed"], p["available"])

    def pools(self) -> list[Pool]:
        return [Pool(p["name"], p["capacity"], p["held"], p["confirmed"], p["available"]) for p in self._query("pools")]

    def available(self, offer: str, *, channel: str = "web") -> Optional[int]:
        """Units of ``offer`` that ``channel`` could be promised now."""
        return cast(Optional[int], self._query("offer_available", name=offer, channel=channel))

    def why_unavailable(self, offer: str, *, channel: str = "web", at: Optional[datetime] = None) -> Optional[Refusal]:
        r = self._query_at("why_unavailable", at, name=offer, channel=channel)
        return None if r is None else _refusal(r)

    def slots(self, template: str, *, after: Optional[datetime] = None, channel: str = "web",
              count: int = 10) -> list[Slot]:
        """The next bookable slots of a slot template."""
        rows = self._query_at("next_slots", after, name=template, channel=channel, count=count)
        return [Slot(s["offer"], _dt(s["starts_at"]), _dt(s["ends_at"]), s["available"]) for s in rows]

    def reservation(self, reservation: int) -> Optional[dict[str, Any]]:
        r = cast(Optional[dict[str, Any]], self._query("reservation", number=reservation))
        if r is not None:
            r["expires_at"] = _dt(r["expires_at"])
        return r

    def customer_usage(self, customer: str) -> dict[str, int]:
        return {offer: units for offer, units in self._query("customer_usage", name=customer)}

    def waitlist(self, offer: str) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._query("waitlist", name=offer) or [])

    def snapshot(self) -> dict[str, Any]:
        """Availability of every pool and offer, without private data (for browsers),
        at ``snapshot()["seq"]``; :meth:`deltas` after that seq bring it up to date."""
        return cast(dict[str, Any], self._query("snapshot"))

    def events(self, *, after: int = 0, limit: int = 1000) -> list[Event]:
        """Up to ``limit`` events with a seq greater than ``after``, in order: the
        numbered stream of what changed (for e-mails and webhooks). Recent events
        come from memory, older ones from replaying the journal; events before a
        compaction are gone (:class:`InvalidRequestError`)."""
        return [_event(e) for e in self._events(after, limit, False)]

    def deltas(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Availability changes after seq ``after``, without private data: apply
        them in order to a :meth:`snapshot` (e.g. in the browser preview)."""
        return cast(list[dict[str, Any]], self._events(after, limit, True))

    def _events(self, after: int, limit: int, deltas: bool) -> Any:
        _check_int("after", after)
        _check_int("limit", limit)
        try:
            return self._n.events_after(after, limit, deltas)
        except (OverflowError, TypeError) as e:
            raise InvalidRequestError("invalid_input", str(e)) from None
        except _native.NativeError as e:
            raise _raise(e) from None

    @property
    def digest(self) -> str:
        return str(self._query("digest"))

    @property
    def seq(self) -> int:
        return int(self._query("seq"))

    @property
    def now(self) -> datetime:
        """The ledger's time: that of the last command applied (not the clock's)."""
        return _dt(self._query("now"))

    def checkpoint(self) -> int:
        """Write a checkpoint beside the journal; returns the records it covers."""
        try:
            return int(self._n.checkpoint())
        except _native.NativeError as e:
            raise _raise(e) from None

    def compact(self) -> int:
        """Retire the journal's records into one base state at its start (the file
        is replaced atomically; other processes on it follow on their next write).
        Returns the number of records retired."""
        try:
            return int(self._n.compact()[0])
        except _native.NativeError as e:
            raise _raise(e) from None
