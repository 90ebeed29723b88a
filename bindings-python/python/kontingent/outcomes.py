"""Outcomes: what a valid command did, as values to ``match`` on. A refusal is an
outcome (:class:`Refused` with its :class:`Refusal`), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Iterator, Mapping, Optional

from ._time import _dt, _ms
from .errors import error

__all__ = [
    "Outcome", "Held", "Confirmed", "Released", "Waiting", "Left", "Promoted", "Refused",
    "Done", "Refusal", "SoldOut", "CustomerLimit", "NotOpenYet", "Closed", "Paused", "Rule",
    "HoldExpired", "Event", "Pool", "Slot",
]


def _wire(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as the wire format has them: times as integer ms."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = _ms(v) if isinstance(v, datetime) else v
    return out


class Refusal:
    """Why a request was refused."""

    code: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """The refusal as the core and the server write it: ``{"reason": code, ...}``,
        times as integer milliseconds (``json.dumps``-ready)."""
        return {"reason": self.code, **_wire(self)}


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

    status: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """The outcome as the core and the server write it (the same JSON as
        ``kontingent serve`` answers and the Node binding's snake_case wire form):
        ``{"status": ..., ...}``, a refusal's reason flattened in, times as integer
        milliseconds. ``json.dumps``-ready."""
        return {"status": self.status, **_wire(self)}


@dataclass(frozen=True)
class Held(Outcome):
    status: ClassVar[str] = "held"
    reservation: int
    expires_at: datetime
    units: int


@dataclass(frozen=True)
class Confirmed(Outcome):
    status: ClassVar[str] = "confirmed"
    reservation: int
    units: int


@dataclass(frozen=True)
class Released(Outcome):
    status: ClassVar[str] = "released"
    reservation: int


@dataclass(frozen=True)
class Waiting(Outcome):
    status: ClassVar[str] = "waiting"
    entry: int
    position: int


@dataclass(frozen=True)
class Left(Outcome):
    status: ClassVar[str] = "left"
    entry: int


@dataclass(frozen=True)
class Promoted(Outcome):
    status: ClassVar[str] = "promoted"
    entry: int
    reservation: int


@dataclass(frozen=True)
class Refused(Outcome):
    status: ClassVar[str] = "refused"
    reason: Refusal

    def to_dict(self) -> dict[str, Any]:
        return {"status": "refused", **self.reason.to_dict()}


@dataclass(frozen=True)
class Done(Outcome):
    status: ClassVar[str] = "done"


@dataclass(frozen=True)
class Event:
    """One numbered change: ``type`` is e.g. ``held``, ``confirmed``, ``released``,
    ``expired``, ``capacity_changed``; ``fields`` holds the rest (ids, pools)."""
    seq: int
    at: datetime
    type: str
    fields: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The event as the core writes it: ``{"seq", "at" (ms), "kind": {"type", ...}}``."""
        return {"seq": self.seq, "at": _ms(self.at), "kind": {"type": self.type, **self.fields}}


def _event(d: Mapping[str, Any]) -> Event:
    kind = dict(d["kind"])
    return Event(int(d["seq"]), _dt(int(d["at"])), str(kind.pop("type")), kind)


@dataclass(frozen=True)
class Consumer:
    """A consumer of the event stream: the event ``types`` it is given and its
    ``cursor``, the last seq it has finished (acked)."""
    name: str
    types: tuple[str, ...]
    cursor: int


def _consumer(d: Mapping[str, Any]) -> Consumer:
    return Consumer(str(d["name"]), tuple(str(t) for t in d["events"]), int(d["cursor"]))


@dataclass(frozen=True)
class Notification:
    """One event to act on, with its idempotency ``key`` (``LEDGER-SEQ``): the same
    on every retry and after every restart, so a receiver that remembers the keys
    it acted on does each effect once (an e-mail's Message-ID, a database key)."""
    key: str
    event: Event
    #: Whether what it announced still stands (a confirmation not released since).
    current: bool = True

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def type(self) -> str:
        return self.event.type


@dataclass(frozen=True)
class Delivery:
    """What :meth:`Ledger.consume` gave a consumer: the events it names after its
    cursor, in seq order, each durable, and ``through``, the last seq looked at.
    Ack ``through`` once every notification is done (or each one's ``seq`` as you
    go); a crash before the ack means they are given again, never lost."""
    consumer: str
    ledger: str
    cursor: int
    through: int
    notifications: tuple[Notification, ...]

    def __iter__(self) -> Iterator[Notification]:
        return iter(self.notifications)

    def __len__(self) -> int:
        return len(self.notifications)


def _delivery(d: Mapping[str, Any]) -> Delivery:
    notes = tuple(Notification(str(n["key"]), _event(n["event"]), bool(n["current"])) for n in d["notifications"])
    return Delivery(str(d["consumer"]), str(d["ledger"]), int(d["cursor"]), int(d["through"]), notes)


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
    raise error("invalid_input", f"unknown refusal {r!r}")


def _outcome(d: Mapping[str, Any]) -> Outcome:
    """Every outcome but the two that come as tuples (see :func:`_from_tuple`)."""
    s = d["status"]
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
    if s == "done":
        return Done()
    raise error("internal", f"unknown outcome {s!r}")


def _from_tuple(t: tuple[Any, ...]) -> Outcome:
    """The one decoding of a native outcome: ``("held", reservation, expires_at_ms,
    units)`` and ``("confirmed", reservation, units)`` (the hot path, no dict), or
    ``("other", outcome_dict)``."""
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
class Recovery:
    """What opening a journal found (``Ledger.recovery``): the records replayed, and
    what was cut — a torn tail, or a torn group commit (``torn_batch``: a hole, then
    a later part of the same never-acknowledged group commit; docs/FORMAT.md)."""

    records: int
    torn_bytes: int
    torn_records: int
    torn_batch: bool
    from_checkpoint: Optional[int]
    base: Optional[int]


@dataclass(frozen=True)
class Slot:
    offer: str
    starts_at: datetime
    ends_at: datetime
    available: int
