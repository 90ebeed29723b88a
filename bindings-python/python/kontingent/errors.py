"""Errors: a stable snake_case ``code`` on every one, the same codes as Rust, JS and HTTP.

Invalid requests and misuse raise :class:`InvalidRequestError` (the ledger unchanged);
a broken journal raises :class:`JournalError`. Refusals are not errors: they are
outcomes (:mod:`kontingent.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

__all__ = [
    "KontingentError", "InvalidRequestError", "UnknownNameError", "RequestIdReusedError",
    "TimeWentBackwardsError", "CatalogIssue", "CatalogError", "JournalError",
    "JournalCorruptedError", "PoisonedError", "CODES", "error",
]


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
            out.append(CatalogIssue(item["path"], item["message"], item.get("line"), item.get("column")))
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


#: Every error code and its class: the same codes as ``kontingent::host::ALL_CODES``
#: in Rust (a test keeps them equal), so each has a class chosen on purpose.
CODES: dict[str, type[KontingentError]] = {
    "time_went_backwards": TimeWentBackwardsError,
    "out_of_range": InvalidRequestError,
    "zero": InvalidRequestError,
    "empty": InvalidRequestError,
    "too_long": InvalidRequestError,
    "too_many": InvalidRequestError,
    "unknown_pool": UnknownNameError,
    "unknown_offer": UnknownNameError,
    "unknown_reservation": UnknownNameError,
    "unknown_wait_entry": UnknownNameError,
    "duplicate": InvalidRequestError,
    "overflow": InvalidRequestError,
    "request_id_reused": RequestIdReusedError,
    "reservation_state": InvalidRequestError,
    "misuse": InvalidRequestError,
    "unknown_channel": UnknownNameError,
    "invalid_catalog": CatalogError,
    "catalog_change": InvalidRequestError,
    "unknown_consumer": UnknownNameError,
    "io": JournalError,
    "bad_header": JournalError,
    "journal_corrupted": JournalCorruptedError,
    "poisoned": PoisonedError,
    "delta_gap": InvalidRequestError,
    "delta_replayed": InvalidRequestError,
    "delta_unknown_pool": InvalidRequestError,
    "delta_out_of_order": InvalidRequestError,
    "delta_out_of_range": InvalidRequestError,
    "invalid_input": InvalidRequestError,
    "journal_locked": JournalError,
    "internal": KontingentError,
}


def _error_class(code: str) -> type[KontingentError]:
    # A code from a newer native part than this module still raises a KontingentError.
    return CODES.get(code, KontingentError)


def error(code: str, message: str, details: Optional[Mapping[str, Any]] = None) -> KontingentError:
    """The exception for ``code``: the one place every kontingent exception is made,
    for the native part too (it calls this instead of raising its own type)."""
    return _error_class(code)(code, message, details)


U64_MAX = 2**64 - 1


def check_int(name: str, value: Any) -> int:
    """A whole number in ``0 ..= 2**64 - 1``, as the native side takes it: anything
    but an int (bools too) is ``invalid_input``, an int outside the range is
    ``out_of_range``, both naming ``name`` (as for a command's numbers)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise error("invalid_input", f"{name}: expected a whole number, got {type(value).__name__}")
    if value < 0 or value > U64_MAX:
        raise error("out_of_range", f"{name}: {int_text(value)} is out of range")
    return value


def int_text(value: int) -> str:
    """An int as a message may quote it: whole up to 128 bits, else only its size
    (Python refuses to print one of over 4,300 digits, and a message never echoes
    an unbounded input)."""
    bits = value.bit_length()
    return str(value) if bits <= 128 else f"a {'negative ' if value < 0 else ''}{bits}-bit number"
