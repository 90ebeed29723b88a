"""A webhook receiver for the tests, as a bad one on a bad day: it verifies each
signature with Python's own hmac module (independent of the server's Rust code),
and, in mode "random", answers 500, takes longer than the server waits, or drops
the connection at random. Every request is one JSON line in the log, written
before the answer: {"key", "seq", "type", "result", "header_key", "at"}.

usage: webhook_receiver.py SECRET_FILE LOG_FILE MODE_FILE SEED
MODE_FILE holds "random", "fail" or "ok" and may change while it runs.
The first line on stdout is the port it listens on (127.0.0.1)."""

import hashlib
import hmac
import http.server
import json
import os
import random
import socketserver
import sys
import threading
import time

secret = open(sys.argv[1], "rb").read().strip()
log = open(sys.argv[2], "a")
mode_file = sys.argv[3]
rng = random.Random(int(sys.argv[4]))
lock = threading.Lock()


def record(**fields):
    with lock:
        log.write(json.dumps(fields) + "\n")
        log.flush()
        os.fsync(log.fileno())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sig = self.headers.get("Kontingent-Signature", "")
        parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
        want = hmac.new(secret, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
        doc = json.loads(body)
        common = {"key": doc["key"], "seq": doc["event"]["seq"], "type": doc["event"]["kind"]["type"],
                  "header_key": self.headers.get("Kontingent-Key"),
                  "at": doc["event"]["at"]}
        if not hmac.compare_digest(want, parts.get("v1", "")):
            record(result="bad_signature", **common)
            return self.answer(401)
        mode = open(mode_file).read().strip()
        with lock:
            r = rng.random()
        if mode == "fail" or (mode == "random" and r < 0.15):
            record(result="500", **common)
            return self.answer(500)
        if mode == "random" and r < 0.25:
            # Acted on, but the answer comes after the server gave up: a retry
            # brings the same key again.
            record(result="ok_late", **common)
            time.sleep(1.0)
            return self.answer(200)
        if mode == "random" and r < 0.32:
            record(result="dropped", **common)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        record(result="ok", **common)
        self.answer(200)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
