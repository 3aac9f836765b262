"""``git atlas review`` end to end (in-process CLI): exit codes, formats, skips, fail-open/closed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from atlas_git.cli import main
from atlas_git.errors import EXIT_LLM_SKIPPED
from atlas_git.testing.fake_llm import FakeLLM, Reply
from tests.conftest import git
from tests.core.review.helpers import stage


@pytest.fixture
def here(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "config.toml").write_text("[provider]\nmax_retries = 0\n")
    return repo


def test_blocking_error_exit_1_and_json(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage(here, {"app.py": "def add(a, b):\n    return a +\n"})
    assert main(["review", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "app.py" in out and "syntax/python" in out
    assert main(["review", "--staged", "--offline", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["line"] == 2 and data["ran"]["builtin"] is True
    assert data["ran"]["llm"] is False and "--offline" in data["ran"]["reason"]
    assert main(["review", "--offline", "--fail-on", "never"]) == 0


def test_clean_change_and_warning_threshold(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage(here, {"app.py": "import pdb\n\ndef add(a, b):\n    return a + b\n"})
    assert main(["review", "--offline"]) == 0  # a warning does not block by default
    assert main(["review", "--offline", "--fail-on", "warning"]) == 1
    stage(here, {"app.py": "def add(a, b):\n    return b + a\n"})
    assert main(["review", "--offline"]) == 0
    assert "no findings" in capsys.readouterr().out


@pytest.mark.parametrize(("var", "value"), [("SKIP", "flake8,atlas-review"), ("ATLAS_SKIP", "atlas-review")])
def test_skip(here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              var: str, value: str) -> None:
    stage(here, {"app.py": "def add(:\n"})
    monkeypatch.setenv(var, value)
    assert main(["review", "--offline"]) == 0
    assert "skipped" in capsys.readouterr().err


def test_llm_down_fails_open_with_one_line_or_closed_with_exit_4(
        here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLAS_API_KEY", "sk-test-closed-port-key-000000000000")
    stage(here, {"app.py": "def add(a, b):\n    return b + a\n"})
    assert main(["review"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "did not run" in line] == [
        next(line for line in err.splitlines() if line.startswith("atlas: warning: LLM review did not run:"))]
    (here / ".atlas" / "config.toml").write_text(
        "[provider]\nmax_retries = 0\n[review]\nllm_fail_closed = true\n")
    assert main(["review"]) == EXIT_LLM_SKIPPED
    assert main(["review", "--offline"]) == 0  # offline is a choice, not a failure


def test_llm_findings_advisory_unless_fail_on(here: Path, fake_llm: FakeLLM) -> None:
    stage(here, {"app.py": "def add(a, b):\n    return a / b\n"})
    fake_llm.default = Reply(json.dumps({"findings": [{
        "path": "app.py", "line": 2, "end_line": None, "severity": "error", "rule": "div",
        "message": "b may be 0", "suggestion": "    return a / b if b else 0"}]}))
    assert main(["review"]) == 0
    assert main(["review", "--fail-on", "error"]) == 1


def test_output_file_and_formats(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage(here, {"app.py": "def add(a, b):\n    return a +\n"})
    report = here.parent / "report.sarif"
    assert main(["review", "--offline", "--format", "sarif", "--output", str(report)]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(report.read_text())["runs"][0]["results"][0]["ruleId"] == "syntax/python"
    assert main(["review", "--offline", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith("::error file=app.py,line=2,")
    assert main(["review", "--offline", "--format", "xml"]) == 2


def test_range_and_paths(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage(here, {"a.py": "def f(:\n", "b.py": "x = 1\n"})
    git(here, "commit", "-qm", "bad", "--no-verify")
    assert main(["review", "--offline", "HEAD~1..HEAD", "b.py"]) == 0
    assert main(["review", "--offline", "HEAD~1..HEAD"]) == 1
    assert main(["review", "--offline", "--base", "HEAD~1", "--format", "json"]) == 1
    assert main(["review", "--offline", "--staged", "--base", "main"]) == 2
    assert main(["review", "--offline", "nope..HEAD"]) == 2
    assert main(["review", "--offline", "HEAD"]) == 1  # one commit: the changes it made
    assert main(["review", "--offline", "HEAD~1"]) == 0


def test_single_root_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    stage(tmp_path, {"a.py": "def f(:\n"})
    git(tmp_path, "commit", "-qm", "root", "--no-verify")
    monkeypatch.chdir(tmp_path)
    assert main(["review", "--offline", "HEAD"]) == 1


def test_review_never_touches_tree_or_index(here: Path) -> None:
    stage(here, {"app.py": "def add(a, b):\n    return a - b\n"})
    (here / "app.py").write_text("def add(a, b):\n    return a * b\n")  # unstaged edit
    index = here / ".git" / "index"
    git(here, "status", "--porcelain")  # let git refresh its stat cache first
    before = (hashlib.sha256(index.read_bytes()).hexdigest(), (here / "app.py").read_text())
    assert main(["review", "--offline"]) == 0  # reads the index: the staged version is fine
    after = (hashlib.sha256(index.read_bytes()).hexdigest(), (here / "app.py").read_text())
    assert before == after
    assert git(here, "status", "--porcelain", "--", "app.py") == "MM app.py\n"


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["review", "--offline"]) != 0
    assert "not inside a git repository" in capsys.readouterr().err


def test_non_utf8_file_names(here: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    name = b"caf\xe9.py"
    (here / name.decode("utf-8", "surrogateescape")).write_bytes(b"def f(:\n")
    git(here, "add", "-A")
    assert main(["review", "--offline"]) == 1
    assert b"caf\xe9.py" in capsysbinary.readouterr().out  # the name's own bytes
    assert main(["review", "--offline", "--format", "json"]) == 1
    data = json.loads(capsysbinary.readouterr().out.decode("utf-8"))  # still valid UTF-8 JSON
    assert data["findings"][0]["path"] == "caf\ufffd.py"
