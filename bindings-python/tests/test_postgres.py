"""Ledger.open("postgresql://...") from Python: two app servers (two handles, each its
own connection) on one ledger in a throwaway PostgreSQL 15 cluster."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from datetime import datetime, timezone

import pytest

import kontingent as k

PGBIN = "/usr/lib/postgresql/15/bin"
AT = datetime(2026, 11, 29, 11, 0, tzinfo=timezone.utc)


def as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)


@pytest.fixture
def postgres_url():
    d = tempfile.mkdtemp(prefix="kontingent-pg-py-")
    shutil.chown(d, "postgres")
    data = os.path.join(d, "data")
    as_postgres(f"{PGBIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {d} -c synchronous_commit=on"
    as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(d, "log"), "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{PGBIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(d, ignore_errors=True)


CATALOG = {"pools": [{"name": "hot", "capacity": 50}], "offers": [{"name": "seat", "draws": {"hot": 1}}]}


def test_two_servers_on_one_ledger_in_postgres(postgres_url):
    a = k.Ledger.open(postgres_url, ledger="campaign", catalog=CATALOG, clock=k.FixedClock(AT))
    b = k.Ledger.open(postgres_url, ledger="campaign")
    assert b.pool("hot") is not None, "the second server sees the first one's catalog"
    sold: list[k.Outcome] = []
    lock = threading.Lock()

    def client(server: k.Ledger, n: int) -> None:
        for i in range(20):
            o = server.reserve(f"{n}-{i}", customer=f"c{n}", lines={"seat": 1}, confirm=True, at=AT)
            with lock:
                sold.append(o)

    ts = [threading.Thread(target=client, args=(a if n % 2 else b, n)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    confirmed = [o for o in sold if isinstance(o, k.Confirmed)]
    assert len(confirmed) == 50, "exactly the capacity, across both servers"
    assert len({o.reservation for o in confirmed}) == 50
    assert a.digest == b.digest
    assert a.pool("hot").confirmed == 50
    # A third server, starting later, replays the log to the same state.
    c = k.Ledger.open(postgres_url, ledger="campaign")
    assert c.digest == a.digest
    with pytest.raises(k.KontingentError):
        k.Ledger.open(postgres_url, ledger="not a valid name!")
