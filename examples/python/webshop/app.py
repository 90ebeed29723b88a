"""The Pampanin ice-cream delivery shop as a small Flask app on one journal.

    python app.py init [ISO time]                        # once: create the journal, load the catalog
    gunicorn -w 4 -b 127.0.0.1:8000 app:app              # 4 workers share the journal file

Environment: KONTINGENT_JOURNAL (default ./pampanin.journal).
POST /orders  {"request_id", "customer", "slot", "tubs": {"vanilla-tub": 2}, "postal_code",
               "channel": "web", "at": ISO time (optional; default: now)}
              -> 201 confirmed | 409 refused (with the reason) | 400 invalid
GET  /slots?after=ISO&channel=web   the next free delivery slots
GET  /pools                         what is left
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any, Optional

from flask import Flask, jsonify, request

import kontingent as k

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "..", "pampanin-delivery", "catalog.toml")
JOURNAL = os.environ.get("KONTINGENT_JOURNAL", os.path.join(os.getcwd(), "pampanin.journal"))

app = Flask(__name__)
_ledger: Optional[k.Ledger] = None


def ledger() -> k.Ledger:
    # Opened in each worker after gunicorn forks: every worker has its own handle,
    # and the journal's file lock keeps them in one order.
    global _ledger
    if _ledger is None:
        _ledger = k.Ledger.open(JOURNAL)
    return _ledger


def when(value: Any) -> Optional[datetime]:
    if value is None:
        return None
    t = datetime.fromisoformat(str(value))
    # Never ask for a time the journal has passed (other workers move it on).
    return max(t, ledger().now)


def refusal_json(r: k.Refusal) -> dict[str, Any]:
    d: dict[str, Any] = {"reason": r.code}
    d.update({f: str(v) if isinstance(v, datetime) else v for f, v in vars(r).items()})
    return d


@app.post("/orders")
def order() -> Any:
    body = request.get_json(force=True, silent=True) or {}
    try:
        lines = {body["slot"]: 1, **body.get("tubs", {})}
        outcome = ledger().reserve(
            str(body["request_id"]), customer=str(body["customer"]), lines=lines,
            channel=body.get("channel", "web"),
            attributes={"postal_code": str(body.get("postal_code", ""))},
            confirm=True, at=when(body.get("at")))
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, k.KontingentError):
            return jsonify(error=e.code, message=e.message), 400
        return jsonify(error="bad_request", message=str(e)), 400
    match outcome:
        case k.Confirmed(reservation=r, units=n):
            return jsonify(status="confirmed", reservation=r, units=n), 201
        case k.Refused(reason=reason):
            return jsonify(status="refused", **refusal_json(reason)), 409
    return jsonify(status=type(outcome).__name__.lower()), 409


@app.get("/slots")
def slots() -> Any:
    after = request.args.get("after")
    found = ledger().slots("delivery", after=when(after), channel=request.args.get("channel", "web"), count=5)
    return jsonify([{"slot": s.offer, "starts_at": s.starts_at.isoformat(), "left": s.available} for s in found])


@app.get("/pools")
def pools() -> Any:
    return jsonify({p.name: p.available for p in ledger().pools()})


if __name__ == "__main__" and sys.argv[1:2] == ["init"]:
    # The catalog's example dates lie in October 2026: a simulation loads it at a time
    # before them (a live shop loads it now).
    at = datetime.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else None
    l = k.Ledger.open(JOURNAL)
    l.load_catalog(CATALOG, at=at)
    print(f"{JOURNAL}: {len(l.pools())} pools loaded")
