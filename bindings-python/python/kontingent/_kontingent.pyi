"""The native part of kontingent (conversion and error mapping only)."""

from typing import Any, Optional, final

__all__ = ["NativeError", "NativeLedger", "compile_catalog", "error_codes", "read_catalog"]

class NativeError(Exception):
    """Raised by every native call: args are (code, message, details)."""

@final
class NativeLedger:
    @staticmethod
    def open(path: Optional[str], durability_name: str, ledger: str = "default") -> NativeLedger: ...
    def submit(self, at: Optional[int], action: Any, clocked: bool = False) -> Any: ...
    def reserve(
        self,
        request_id: Any,
        customer: Any,
        lines: Any,
        channel: Any,
        attributes: Any,
        hold_ms: Any,
        confirm: bool,
        up_to: bool,
        waitlist: bool,
        at: Any,
        clocked: bool = False,
    ) -> tuple[Any, ...]: ...
    def reserve_many(self, at: Any, requests: list[Any], clocked: bool = False) -> list[Any]: ...
    def preview(
        self,
        request_id: Any,
        customer: Any,
        lines: Any,
        channel: Any,
        attributes: Any,
        hold_ms: Any,
        confirm: bool,
        up_to: bool,
        waitlist: bool,
        at: Any,
        clocked: bool = False,
    ) -> tuple[Any, ...]: ...
    def query(
        self,
        what: str,
        name: Any = None,
        number: Any = None,
        channel: Any = None,
        at: Any = None,
        count: Any = None,
        clocked: bool = False,
    ) -> Any: ...
    def events_after(self, after: int, limit: int, deltas: bool) -> Any: ...
    def consume(self, consumer: str, limit: int) -> Any: ...
    def checkpoint(self) -> int: ...
    def compact(self) -> tuple[int, int, int]: ...
    def recovery(self) -> tuple[int, int, int, bool, Optional[int], Optional[int]]: ...
    def is_poisoned(self) -> bool: ...

def compile_catalog(text: str, format: str, file: str) -> Any: ...
def error_codes() -> list[str]: ...
def read_catalog(path: Any) -> Any: ...
