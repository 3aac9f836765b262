"""Progress output and formatter selection."""

from __future__ import annotations

import io
import shutil
import time

import pytest

from atlas_git.core.executor.formatters import formattable, formatter_plan
from atlas_git.core.executor.progress import waiting


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_non_tty_gets_one_plain_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    with waiting("asking model-x"):
        time.sleep(0.25)
    assert stream.getvalue() == "atlas: asking model-x...\n"


def test_tty_gets_a_spinner_that_is_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Tty()
    monkeypatch.setattr("sys.stderr", stream)
    with waiting("asking model-x"):
        time.sleep(0.35)
    text = stream.getvalue()
    assert "\r| asking model-x (0." in text or "\r/ asking model-x" in text
    assert text.endswith("\r\033[K")


def test_formatter_plan_per_language() -> None:
    plan = {lang: cmd for lang, cmd, _ in formatter_plan(["a.py", "b.ts", "c.sh", "README.md"])}
    assert plan["python"] is not None  # ruff is a dev dependency
    assert (plan["javascript/typescript"] is None) == (shutil.which("prettier") is None)
    assert (plan["shell"] is None) == (shutil.which("shfmt") is None)
    assert formattable(["a.py", "README.md", "x.js"]) == ["a.py", "x.js"]
