"""An ad-hoc campaign script: the Emstek vouchers, taken from a CSV of form submissions.

    python examples/python/campaign.py [submissions.csv] [--journal emstek.journal]

Each row is a form submission (time, request id, customer, voucher offer, quantity).
Every accepted voucher is confirmed at once (the form takes payment); every refusal says
why. Repeated rows (double clicks, retries) return the first answer and never reserve
twice. The journal makes the run durable: run it again and nothing is sold twice.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from datetime import datetime

import kontingent as k

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "emstek-vouchers", "catalog.toml")


def describe(outcome: k.Outcome) -> str:
    match outcome:
        case k.Confirmed(reservation=r, units=n):
            return f"confirmed {n} (reservation {r})"
        case k.Refused(reason=k.SoldOut(pool=pool, left=left)):
            return f"refused: {pool} has only {left} left"
        case k.Refused(reason=k.CustomerLimit(limit=limit, used=used)):
            return f"refused: customer limit {limit / 100:.0f} EUR, already {used / 100:.0f} EUR"
        case k.Refused(reason=k.NotOpenYet(opens_at=t)):
            return f"refused: opens at {t.isoformat()}"
        case k.Refused(reason=reason):
            return f"refused: {reason.code}"
        case other:
            return repr(other)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", nargs="?", default=os.path.join(HERE, "submissions.csv"))
    p.add_argument("--journal", help="journal file (default: a fresh temporary one)")
    args = p.parse_args(argv)
    journal = args.journal or os.path.join(tempfile.mkdtemp(), "emstek.journal")
    with open(args.csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # The campaign runs on its own dates, not today's: the ledger's clock stands at
    # each submission's time while it is taken (the catalog loads at the first one).
    # A clock reading never rewinds the journal: on a re-run the rows are in its past,
    # and their request ids answer with what they got the first time.
    if not rows:
        return 0
    clock = k.ManualClock(datetime.fromisoformat(rows[0]["submitted_at"]))
    ledger = k.Ledger.open(journal, catalog=CATALOG, clock=clock)
    for row in rows:
        submitted = datetime.fromisoformat(row["submitted_at"])
        clock.set(submitted)
        try:
            outcome = ledger.reserve(
                row["request_id"], customer=row["customer"],
                lines={row["voucher"]: int(row["quantity"])}, confirm=True)
            answer = describe(outcome)
        except k.RequestIdReusedError:
            answer = "error: request id reused for a different request"
        except k.UnknownNameError as e:
            answer = f"error: {e.message}"
        print(f"{submitted:%H:%M:%S} {row['request_id']} {row['customer']:<22} "
              f"{row['quantity']} x {row['voucher']:<20} {answer}")
    budget = ledger.pool("budget")
    assert budget is not None
    print(f"budget: {budget.confirmed} of {budget.capacity} EUR confirmed; journal {journal}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
