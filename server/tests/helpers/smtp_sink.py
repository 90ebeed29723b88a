"""A real SMTP server for the tests (aiosmtpd) that keeps every message it
accepts: one JSON line per message, {"message_id", "to", "subject", "body"},
written and synced before it answers 250. A small delay per message makes a
mailing take long enough to be killed in the middle of.

usage: smtp_sink.py LOG_FILE DELAY_MS
The first line on stdout is the port it listens on (127.0.0.1)."""

import asyncio
import email
import email.policy
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller

log = open(sys.argv[1], "a")
delay = int(sys.argv[2]) / 1000


class Sink:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        log.write(json.dumps({
            "message_id": msg["Message-ID"],
            "to": envelope.rcpt_tos,
            "subject": msg["Subject"],
            "body": msg.get_content(),
        }) + "\n")
        log.flush()
        os.fsync(log.fileno())
        return "250 OK"


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
try:
    threading.Event().wait()
finally:
    controller.stop()
