"""The ledger handle: a thin typed layer over the native one (conversion only; every
rule is the Rust core's)."""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Mapping, Optional, Union, cast

from . import _kontingent as _native
from ._time import _dt, _duration_ms, _ms
from .clock import Clock, SystemClock
from .errors import KontingentError, check_int, error
from .outcomes import (Consumer, Delivery, Event, Outcome, Pool, Recovery, Refusal, Slot, _consumer, _delivery, _event,
                       _from_tuple, _refusal)

__all__ = ["Ledger", "Reserve", "CatalogSource"]

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
    if isinstance(catalog, Mapping):
        return cast(dict[str, Any], _native.compile_catalog(json.dumps(catalog), "json", "<dict>"))
    if not isinstance(catalog, (str, os.PathLike)):
        raise error("invalid_input", f"catalog: expected a path or a dict, got {type(catalog).__name__}")
    # Read by the Rust reader: a missing or non-UTF-8 file is a CatalogError naming it.
    return cast(dict[str, Any], _native.read_catalog(os.fspath(catalog)))


class _Unusable:
    """Stands in for the native handle of a closed ledger, or of one inherited
    through ``fork()``: every use raises ``misuse`` saying which, at no cost to a
    ledger in use."""

    def __init__(self, why: str):
        self._why = why

    def __getattr__(self, name: str) -> Any:
        raise error("misuse", self._why)


_OPEN: "weakref.WeakSet[Ledger]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for ledger in list(_OPEN):
        ledger._n = _Unusable(
            "this Ledger was opened in the parent process: after fork(), open the journal "
            "again in the child (the parent's handle holds its locks and its view of the file)")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
        _OPEN.add(self)
        # The default clock is read natively (the same wall clock, no call into Python).
        self._clock = None if clock is None or isinstance(clock, SystemClock) else clock
        if self._clock is not None and not callable(self._clock):
            raise error("invalid_input", "clock: expected a callable returning a datetime")

    @classmethod
    def open(cls, path: Union[str, "os.PathLike[str]"], *, catalog: Optional[CatalogSource] = None,
             durability: str = "full", ledger: str = "default", clock: Optional[Clock] = None,
             at: Optional[datetime] = None) -> "Ledger":
        """Open (or create) a ledger on a journal file, replaying it; optionally load a catalog.

        ``clock`` is where every call without ``at=`` takes its time (default: the wall
        clock); pin it in tests and rehearsals. The catalog is loaded at ``at``, or at
        the clock's now.

        A catalog equal to the one the journal already holds is not loaded again
        (a restart journals nothing new); a changed one is loaded as a change.

        ``path`` may also be a ``postgresql://`` URL: then the ledger named ``ledger`` lives
        in an ordered log in PostgreSQL, shared by every app server that opens it (each
        answer after its batch's COMMIT)."""
        me = cls(_native.NativeLedger.open(os.fspath(path), durability, ledger), clock)
        if catalog is not None:
            compiled = _compile(catalog)
            # A restart with the same catalog changes nothing: journal no new record.
            if me._query("catalog") != compiled:
                me._submit({"type": "load_catalog", **compiled}, at)
        return me

    @classmethod
    def in_memory(cls, *, catalog: Optional[CatalogSource] = None, clock: Optional[Clock] = None,
                  at: Optional[datetime] = None) -> "Ledger":
        """A ledger that keeps nothing on disk (tests, previews, ad-hoc scripts);
        ``clock`` and ``at`` as in :meth:`open`."""
        me = cls(_native.NativeLedger.open(None, "none"), clock)
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
            raise error("invalid_input", f"clock: returned {type(reading).__name__}, not a datetime")
        return _ms(reading), True

    def _submit(self, action: dict[str, Any], at: Optional[datetime]) -> Outcome:
        ms, clocked = self._time(at)
        return _from_tuple(self._n.submit(ms, action, clocked))

    def _query(self, what: str, **kw: Any) -> Any:
        return self._n.query(what, **kw)

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
        return _from_tuple(self._n.reserve(
            request_id, customer, lines, channel, attributes,
            None if hold is None else _duration_ms(hold), bool(confirm), bool(up_to),
            bool(waitlist), ms, clocked))

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
        results = self._n.reserve_many(ms, tuples, clocked)
        return [r if isinstance(r, KontingentError) else _from_tuple(r) for r in results]

    def confirm(self, reservation: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "confirm", "reservation": check_int("reservation", reservation)}, at)

    def release(self, reservation: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "release", "reservation": check_int("reservation", reservation)}, at)

    def leave_waitlist(self, entry: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "leave_waitlist", "entry": check_int("entry", entry)}, at)

    def set_capacity(self, pool: str, capacity: int, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "set_capacity", "pool": pool, "capacity": check_int("capacity", capacity)}, at)

    def pause(self, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "pause"}, at)

    def resume(self, *, at: Optional[datetime] = None) -> Outcome:
        return self._submit({"type": "resume"}, at)

    def tick(self, *, at: Optional[datetime] = None) -> Outcome:
        """Advance time (expiring due holds) without a request."""
        return self._submit({"type": "tick"}, at)

    # ---- consumers: notifications that happen once

    def define_consumer(self, name: str, events: Iterable[str], *, after: Optional[int] = None,
                        at: Optional[datetime] = None) -> Outcome:
        """Declare a consumer of the event stream (``"mailer"``, ``"webhook:kitchen"``)
        given the event ``events`` types it names (``"confirmed"``, ``"promoted"``...),
        or change an existing one's types. A new consumer starts at the first event
        unless ``after`` says where; an existing one keeps its cursor unless ``after``
        moves it. Journaled like every command; emits no event."""
        if isinstance(events, str):
            raise error("invalid_input", "events: give a list of event types, not one string")
        action: dict[str, Any] = {"type": "define_consumer", "consumer": name, "events": list(events)}
        if after is not None:
            check_int("after", after)
            action["after"] = after
        return self._submit(action, at)

    def consume(self, name: str, *, limit: int = 100) -> Delivery:
        """What consumer ``name`` is given now: up to ``limit`` (1..=10,000) of the
        events it names after its cursor, in seq order, each durable, with its
        idempotency key. Changes nothing: :meth:`ack` after acting on them.

        >>> d = ledger.consume("mailer")                # doctest: +SKIP
        >>> for n in d:
        ...     send_mail(n.event, message_id=n.key)
        ...     ledger.ack("mailer", n.seq)
        >>> ledger.ack("mailer", d.through)  # past the events it does not name, too
        """
        check_int("limit", limit)
        if not isinstance(name, str):
            raise error("invalid_input", f"consumer: expected a string, got {type(name).__name__}")
        return _delivery(self._n.consume(name, limit))

    def ack(self, name: str, seq: int, *, at: Optional[datetime] = None) -> Outcome:
        """Consumer ``name`` has finished every event up to ``seq`` (a notification's
        ``seq``, or a delivery's ``through``): its cursor moves there, durably. Acking
        an older seq again changes nothing."""
        check_int("seq", seq)
        return self._submit({"type": "ack", "consumer": name, "seq": seq}, at)

    def consumer(self, name: str) -> Optional[Consumer]:
        """One consumer's event types and cursor; ``None`` if it is not defined."""
        d = self._query("consumer", name=name)
        return None if d is None else _consumer(d)

    def consumers(self) -> list[Consumer]:
        """Every consumer, by name."""
        return [_consumer(d) for d in self._query("consumers")]

    # ---- queries

    def preview(self, request_id: str, *, customer: str,
                lines: Union[Mapping[str, int], Iterable[tuple[str, int]]], channel: str = "web",
                attributes: Optional[Mapping[str, str]] = None, hold: Optional[timedelta] = None,
                confirm: bool = False, up_to: bool = False, waitlist: bool = False,
                at: Optional[datetime] = None) -> Outcome:
        """The outcome :meth:`reserve` would give at ``at`` (default: now, as
        :meth:`reserve` would be stamped), without changing anything."""
        ms, clocked = self._time(at)
        return _from_tuple(self._n.preview(
            request_id, customer, lines, channel, attributes,
            None if hold is None else _duration_ms(hold), bool(confirm), bool(up_to),
            bool(waitlist), ms, clocked))

    def pool(self, name: str) -> Optional[Pool]:
        p = self._query("pool", name=name)
        return None if p is None else Pool(p["name"], p["capacity"], p["held"], p["confirmed"], p["available"])

    def pools(self) -> list[Pool]:
        return [Pool(p["name"], p["capacity"], p["held"], p["confirmed"], p["available"]) for p in self._query("pools")]

    def available(self, offer: str, *, channel: str = "web") -> Optional[int]:
        """Units of ``offer`` that ``channel`` could be promised now."""
        return cast(Optional[int], self._query("available", name=offer, channel=channel))

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
        """One page: at most ``limit`` (default 1,000) events with a seq greater than
        ``after``, in order: the numbered stream of what changed (for e-mails and
        webhooks). A full page means there may be more: ask again with ``after`` set
        to the last one's seq, or use :meth:`iter_events`, which does. Recent events
        come from memory, older ones from replaying the journal; events before a
        compaction are gone (:class:`InvalidRequestError`)."""
        return [_event(e) for e in self._events(after, limit, False)]

    def iter_events(self, *, after: int = 0, page: int = 1000) -> Iterator[Event]:
        """Every event after ``after`` up to the latest, fetched ``page`` at a time."""
        while True:
            batch = self.events(after=after, limit=page)
            yield from batch
            if len(batch) < page or not batch:
                return
            after = batch[-1].seq

    def deltas(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Availability changes after seq ``after``, without private data: apply
        them in order to a :meth:`snapshot` (e.g. in the browser preview)."""
        return cast(list[dict[str, Any]], self._events(after, limit, True))

    def _events(self, after: int, limit: int, deltas: bool) -> Any:
        check_int("after", after)
        check_int("limit", limit)
        try:
            return self._n.events_after(after, limit, deltas)
        except (OverflowError, TypeError) as e:
            raise error("invalid_input", str(e)) from None

    @property
    def recovery(self) -> Recovery:
        """What opening found: records replayed, and what was cut (nothing for a
        ledger in memory)."""
        return Recovery(*self._n.recovery())

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

    def close(self) -> None:
        """Let the journal go (its file handle and locks); later calls raise
        ``misuse``. Closing twice is fine. A ``with Ledger.open(...) as l:`` block
        closes on exit."""
        self._n = _Unusable("this Ledger is closed")
        _OPEN.discard(self)

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def checkpoint(self) -> int:
        """Write a checkpoint beside the journal; returns the records it covers."""
        return int(self._n.checkpoint())

    def compact(self) -> int:
        """Retire the journal's records into one base state at its start (the file
        is replaced atomically; other processes on it follow on their next write).
        Returns the number of records retired."""
        return int(self._n.compact()[0])
