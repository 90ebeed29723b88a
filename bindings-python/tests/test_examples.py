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
