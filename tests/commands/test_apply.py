"""``git atlas apply``: edits from elsewhere become proposal branches, or nothing at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, run_cli
from tests.executor_support import atlas_branches, cli, search_replace, snapshot, worktrees

CLEAN_DIFF = """diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,2 +1,4 @@
 def add(a, b):
+    if a is None or b is None:
+        raise ValueError("missing operand")
     return a + b
"""

# What models really send: prose, a fence, no a/ b/ prefixes, wrong line numbers and counts.
SLOPPY_DIFF = """Sure! Here is the change:

```diff
--- app.py
+++ app.py
@@ -7,9 +7,3 @@
 def add(a, b):
+    # both operands are required
     return a + b
```
Let me know if you need anything else.
"""


def _apply(monkeypatch: pytest.MonkeyPatch, repo: Path, capsys: pytest.CaptureFixture[str],
           text: str | bytes, *args: str) -> tuple[int, dict]:
    patch = repo.parent / "edit.txt"
    patch.write_bytes(text.encode() if isinstance(text, str) else text)
    capsys.readouterr()
    rc = cli(monkeypatch, repo, "apply", "--json", *args, str(patch))
    out = capsys.readouterr().out
    return rc, (json.loads(out) if out.strip() else {})


def test_clean_diff_becomes_a_branch_and_user_state_is_untouched(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "notes.txt").write_text("uncommitted work\n")
    git(repo, "add", "notes.txt")
    (repo / "README.md").write_text("# demo\nunstaged edit\n")
    before = snapshot(repo)
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF)
    assert rc == 0, data
    assert data["status"] == "applied" and data["hunks_applied"] == 1 and data["hunks_failed"] == 0
    assert set(data) >= {"status", "branch", "commit", "files", "hunks_applied", "hunks_failed", "errors"}
    assert data["branch"].startswith("atlas/") and data["files"] == ["app.py"]
    assert snapshot(repo) == before
    assert worktrees(repo) == [str(repo)]
    shown = git(repo, "show", f"{data['commit']}:app.py")
    assert 'raise ValueError("missing operand")' in shown
    # The diff comes from git, and the trailers say what made it.
    message = git(repo, "log", "-1", "--format=%B", data["commit"])
    assert "Atlas-Intent: apply" in message and "Atlas-Cost: 0" in message
    assert git(repo, "rev-parse", f"{data['commit']}^").strip() == git(repo, "rev-parse", "HEAD").strip()


def test_sloppy_diff_with_prose_and_wrong_numbers_applies(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = _apply(monkeypatch, repo, capsys, SLOPPY_DIFF)
    assert rc == 0, data
    assert "# both operands are required" in git(repo, "show", f"{data['commit']}:app.py")


def test_search_replace_and_new_file(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    text = (search_replace("app.py", "    return a + b\n", "    return b + a\n")
            + search_replace("util.py", "", "def one():\n    return 1\n"))
    rc, data = _apply(monkeypatch, repo, capsys, text)
    assert rc == 0, data
    assert sorted(data["files"]) == ["app.py", "util.py"]
    assert "def one()" in git(repo, "show", f"{data['commit']}:util.py")


def test_applying_twice_is_detected_not_doubled(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF)
    assert rc == 0
    rc2, data2 = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--base", data["commit"])
    assert rc2 == 0 and data2["branch"] is None
    assert len(atlas_branches(repo)) == 1


def test_partial_application_is_reported_and_creates_no_branch(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    text = (search_replace("app.py", "    return a + b\n", "    return b + a\n")
            + search_replace("app.py", "    this line does not exist\n", "    x\n"))
    before = snapshot(repo)
    rc, data = _apply(monkeypatch, repo, capsys, text)
    assert rc == 1
    assert data["status"] == "partial" and data["hunks_failed"] == 1 and data["branch"] is None
    assert data["errors"]
    assert atlas_branches(repo) == [] and snapshot(repo) == before


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", ".git/hooks/pre-commit", ".GIT/config"])
def test_escaping_paths_are_refused(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], path: str) -> None:
    before = snapshot(repo)
    rc, data = _apply(monkeypatch, repo, capsys, search_replace(path, "", "evil\n"))
    # Either not recognised as an edit at all (2) or refused by the path check (1).
    assert rc in (1, 2)
    if rc == 1:
        assert data["status"] == "refused" and data["branch"] is None and "refused" in data["errors"][0]
    assert atlas_branches(repo) == [] and snapshot(repo) == before
    assert not (repo.parent / "outside.py").exists()


def test_symlink_out_of_the_repo_is_refused(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    git(repo, "add", "link")
    git(repo, "commit", "-qm", "link")
    rc, _ = _apply(monkeypatch, repo, capsys, search_replace("link/x.py", "", "evil\n"))
    assert rc == 1 and not (outside / "x.py").exists() and atlas_branches(repo) == []


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01binary", b"\xff\xfe not utf-8 @@ -1 +1 @@",
                                  b"just some prose, no edit at all\n"])
def test_bad_input_is_a_usage_error_with_no_branch(repo: Path, data: bytes) -> None:
    before = snapshot(repo)
    proc = run_cli("apply", "--json", "-", cwd=repo, input=data)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("atlas: error:") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert atlas_branches(repo) == [] and snapshot(repo) == before


def test_huge_input_is_refused(repo: Path) -> None:
    proc = run_cli("apply", "-", cwd=repo, input=b"+" * 2_100_000)
    assert proc.returncode == 2 and "limit" in proc.stderr


def test_branch_name_and_base(repo: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")
    git(repo, "commit", "-qam", "sub")
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--base", first, "--branch", "try/guard")
    assert rc == 0 and data["branch"] == "try/guard"
    assert git(repo, "rev-parse", "try/guard^").strip() == first
    rc, _ = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--branch", "try/guard")
    assert rc == 2  # exists already: refused before any work
    rc, _ = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--base", "no-such-rev")
    assert rc == 2


def test_failing_test_command_is_reported(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--test", "exit 3")
    assert rc == 1
    assert data["checks"]["ok"] is False and any("exit" in e for e in data["errors"])
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--no-test")
    assert rc == 0


def test_syntax_error_in_result_fails_checks(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = _apply(monkeypatch, repo, capsys,
                      search_replace("app.py", "    return a + b\n", "    return a +\n"))
    assert rc == 1 and data["checks"]["ok"] is False
    assert "syntax" in data["checks"]["failures"][0]


def test_apply_inside_a_git_hook_leaves_the_index_alone(repo: Path) -> None:
    """A pre-commit hook running `git atlas apply` must not write into the commit's index."""
    import sys

    patch = repo.parent / "hook-edit.txt"
    patch.write_text(CLEAN_DIFF)
    hook = repo / ".git" / "hooks" / "pre-commit"
    out = repo.parent / "hook-out.json"
    hook.write_text(f"#!/bin/sh\n{sys.executable} -m atlas_git apply --json {patch} > {out} 2>&1\nexit 0\n")
    hook.chmod(0o755)
    (repo / "README.md").write_text("# demo\nchanged\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "user commit")
    data = json.loads(out.read_text())
    assert data["status"] == "applied", data
    # The user's commit holds exactly the user's change; the proposal holds exactly ours.
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["README.md"]
    assert git(repo, "show", "--name-only", "--format=", data["commit"]).split() == ["app.py"]
    assert git(repo, "status", "--porcelain") == ""
    assert worktrees(repo) == [str(repo)]


def test_test_artifacts_are_not_committed(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    messy = "echo junk > artifact.txt && mkdir -p .cache && echo x > .cache/y && echo more >> app.py"
    rc, data = _apply(monkeypatch, repo, capsys, CLEAN_DIFF, "--test", messy)
    assert rc == 0, data
    assert git(repo, "show", "--name-only", "--format=", data["commit"]).split() == ["app.py"]
    assert "more" not in git(repo, "show", f"{data['commit']}:app.py")
