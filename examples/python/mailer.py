"""The confirmation e-mail, sent once per voucher that exists.

A mailer is a consumer of the ledger's events: it is given each `confirmed`
(and `promoted`) event once it is durable, sends one message for it, and acks
it only after the SMTP server took the message. Killed at any moment, it
resumes from its cursor: a message may be sent again only if the kill fell
between the send and the ack, and then with the same Message-ID (the event's
key), which mail systems use to recognise the same message.

    python3 mailer.py --journal emstek.journal --smtp 127.0.0.1:1025 [--once]
"""

import argparse
import smtplib
import time
from email.message import EmailMessage

import kontingent

TEMPLATES = {
    "confirmed": ("Your voucher is confirmed",
                  "Hello,\n\nyour voucher {lines} is confirmed (reservation {reservation}).\n"),
    "promoted": ("A voucher is waiting for you",
                 "Hello,\n\na voucher {lines} is held for you until {expires_at}: confirm it in time.\n"),
}


def message(ledger: kontingent.Ledger, n: kontingent.Notification, sender: str) -> EmailMessage | None:
    """The e-mail for one notification, or None if there is nothing to send."""
    if n.type not in TEMPLATES or not n.current:
        return None  # another event type, or released since: no e-mail for it
    r = ledger.reservation(n.event.fields["reservation"])
    if r is None or "@" not in r["customer"]:
        return None
    subject, body = TEMPLATES[n.type]
    values = {"reservation": r["id"], "lines": ", ".join(f"{q} × {o}" for o, q in r["lines"]),
              "expires_at": r["expires_at"].isoformat()}
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, r["customer"], subject
    m["Message-ID"] = f"<{n.key}@kontingent>"  # the same on every retry
    m.set_content(body.format(**values))
    return m


def run(journal: str, smtp: str, sender: str, once: bool) -> int:
    host, port = smtp.rsplit(":", 1)
    ledger = kontingent.Ledger.open(journal)
    if ledger.consumer("mailer") is None:
        ledger.define_consumer("mailer", ["confirmed", "promoted"])
    sent = 0
    while True:
        delivery = ledger.consume("mailer", limit=20)
        with smtplib.SMTP(host, int(port)) as server:
            for n in delivery:
                m = message(ledger, n, sender)
                if m is not None:
                    server.send_message(m)
                    sent += 1
                ledger.ack("mailer", n.seq)  # only after the SMTP server took it
        if delivery.through > delivery.cursor:
            ledger.ack("mailer", delivery.through)
        if len(delivery) == 0:
            if once:
                return sent
            time.sleep(0.2)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--journal", required=True)
    p.add_argument("--smtp", default="127.0.0.1:1025")
    p.add_argument("--sender", default="Emstek vouchers <vouchers@example.org>")
    p.add_argument("--once", action="store_true", help="stop when nothing is left to send")
    a = p.parse_args()
    print(f"sent {run(a.journal, a.smtp, a.sender, a.once)} e-mails")
