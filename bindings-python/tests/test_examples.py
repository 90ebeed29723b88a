"""The Python examples run and say what they should."""

import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_campaign_script(tmp_path):
    journal = str(tmp_path / "emstek.journal")
    script = os.path.join(ROOT, "examples", "python", "campaign.py")
    out = subprocess.run([sys.executable, script, "--journal", journal],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert "refused: opens at" in lines[0]
    assert lines[1].endswith("confirmed 2 (reservation 1)")
    # A double click answers exactly like the first click.
    assert lines[2].split(maxsplit=1)[1] == lines[3].split(maxsplit=1)[1]
    assert "eiscafe-venezia has only 3 left" in lines[5]
    assert "customer limit 100 EUR, already 40 EUR" in lines[6]
    assert "request id reused" in lines[8]
    assert 'unknown offer "no-such-voucher"' in lines[10]
    assert lines[-1].startswith("budget: 360 of 20000 EUR confirmed")
    # Running the same submissions again on the same journal sells nothing twice.
    again = subprocess.run([sys.executable, script, "--journal", journal],
                           capture_output=True, text=True, check=True).stdout
    assert again.splitlines()[:-1] == lines[:-1], "every row answers as the first time"
    assert again.splitlines()[-1].startswith("budget: 360 of 20000 EUR confirmed")


def test_mailer_sends_one_email_per_voucher_through_kills(tmp_path):
    """The mailer recipe against a real SMTP server (aiosmtpd), killed three times
    mid-mailing: one e-mail per confirmed voucher (a repeat only with the same
    Message-ID), none for a released one."""
    import json
    import signal
    import time
    from datetime import datetime, timezone

    import kontingent

    sink_log = tmp_path / "mails.jsonl"
    sink = subprocess.Popen([sys.executable, os.path.join(ROOT, "server", "tests", "helpers", "smtp_sink.py"),
                             str(sink_log), "30"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline())
        journal = str(tmp_path / "vouchers.journal")
        t0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
        l = kontingent.Ledger.open(journal, clock=kontingent.FixedClock(t0), catalog={
            "pools": [{"name": "zur-post", "capacity": 30}],
            "offers": [{"name": "zur-post-20", "draws": {"zur-post": 1}}]})
        confirmed, released = set(), set()
        for i in range(40):
            o = l.reserve(f"r{i}", customer=f"guest{i}@example.org", lines={"zur-post-20": 1}, confirm=True)
            if isinstance(o, kontingent.Confirmed):
                confirmed.add(f"guest{i}@example.org")
            if i % 9 == 4 and isinstance(o, kontingent.Confirmed):
                l.release(o.reservation)  # before the mailer gets to it
                confirmed.discard(f"guest{i}@example.org")
                released.add(f"guest{i}@example.org")
        l.close()
        script = os.path.join(ROOT, "examples", "python", "mailer.py")
        args = [sys.executable, script, "--journal", journal, "--smtp", f"127.0.0.1:{port}"]
        sent = lambda: len(sink_log.read_text().splitlines()) if sink_log.exists() else 0  # noqa: E731
        for target in (3, 10, 18):
            p = subprocess.Popen(args)
            deadline = time.monotonic() + 30
            while sent() < target and time.monotonic() < deadline:
                time.sleep(0.005)
            p.send_signal(signal.SIGKILL)  # in the middle of the mailing
            p.wait()
        mid = len(sink_log.read_text().splitlines())
        out = subprocess.run(args + ["--once"], capture_output=True, text=True, check=True).stdout
        assert out.startswith("sent ")
    finally:
        sink.kill()
    mails = [json.loads(line) for line in sink_log.read_text().splitlines()]
    assert 0 < mid < len(confirmed), "the kills fall in the middle of the mailing"
    by_id = {m["message_id"]: m for m in mails}
    assert sorted(m["to"][0] for m in by_id.values()) == sorted(confirmed)
    assert not released & {m["to"][0] for m in mails}, "no e-mail for a released voucher"
    assert all(m["message_id"].endswith("@kontingent>") for m in mails)
    print(f"{len(mails)} e-mails, {len(by_id)} distinct for {len(confirmed)} vouchers")
