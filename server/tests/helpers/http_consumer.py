"""A consumer over HTTP, as a PHP or Python site would run one: it asks the
server what it is given, performs each effect (a line in the effects file,
synced: the receiver), and acks each after its effect. It survives the server
being down (it retries) and may itself be killed at any moment.

usage: http_consumer.py BASE_FILE KEY CONSUMER EFFECTS_FILE
BASE_FILE holds the server's base URL (rewritten when the server restarts)."""

import json
import os
import sys
import time
import urllib.error
import urllib.request

base_file, key, consumer, effects = sys.argv[1:5]
out = open(effects, "a")


def call(method, path, body=None):
    base = open(base_file).read().strip()
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


path = f"/v1/ledgers/rush/consumers/{consumer}"
while True:
    try:
        d = call("GET", f"{path}/events?limit=5")
        for n in d["notifications"]:
            out.write(f"{n['key']} {n['event']['seq']} {n['event']['kind']['type']}\n")
            out.flush()
            os.fsync(out.fileno())
            call("POST", f"{path}/ack", {"seq": n["event"]["seq"]})
        if d["through"] > d["cursor"]:
            call("POST", f"{path}/ack", {"seq": d["through"]})
        if not d["notifications"]:
            time.sleep(0.01)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError, OSError):
        time.sleep(0.05)
