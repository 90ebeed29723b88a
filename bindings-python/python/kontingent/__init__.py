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

from .clock import Clock, FixedClock, ManualClock, SystemClock
from .errors import (CatalogError, CatalogIssue, InvalidRequestError, JournalCorruptedError, JournalError,
                     KontingentError, PoisonedError, RequestIdReusedError, TimeWentBackwardsError,
                     UnknownNameError, _error_class)
from .ledger import Ledger, Reserve
from .outcomes import (Closed, Confirmed, Consumer, CustomerLimit, Delivery, Done, Event, Held, HoldExpired, Left, NotOpenYet,
                       Notification, Outcome, Paused, Pool, Promoted, Recovery, Refusal, Refused, Released, Rule, Slot, SoldOut,
                       Waiting)

__all__ = [
    "Ledger", "Outcome", "Held", "Confirmed", "Released", "Waiting", "Left", "Promoted",
    "Refused", "Done", "Refusal", "SoldOut", "CustomerLimit", "NotOpenYet", "Closed",
    "Paused", "Rule", "HoldExpired", "Pool", "Recovery", "Slot", "KontingentError", "CatalogError",
    "CatalogIssue", "InvalidRequestError", "UnknownNameError", "RequestIdReusedError",
    "TimeWentBackwardsError", "JournalError", "JournalCorruptedError", "PoisonedError", "Event", "Reserve",
    "Clock", "SystemClock", "FixedClock", "ManualClock", "Consumer", "Delivery", "Notification",
]
