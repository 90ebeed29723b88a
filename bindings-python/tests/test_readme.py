"""Every ```python block of the README runs, as written, against the installed package."""

import os
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    found = blocks()
    assert found, "the README has Python examples"
    # Relative paths in the examples are relative to the repository; the journal
    # they create goes to a temporary directory.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for code in found:
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert "held" in out and "confirmed" in out, out
    assert os.path.exists(tmp_path / "emstek.journal")
