"""``git atlas proposals | show | accept | discard | gc``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, run_cli
from tests.executor_support import atlas_branches, cli, search_replace, snapshot, worktrees


def _propose(monkeypatch: pytest.MonkeyPatch, repo: Path, capsys: pytest.CaptureFixture[str],
             text: str, *args: str) -> dict:
    patch = repo.parent / "p.txt"
    patch.write_text(text)
    capsys.readouterr()
    assert cli(monkeypatch, repo, "apply", "--json", *args, str(patch)) == 0
    return json.loads(capsys.readouterr().out)


SWAP = search_replace("app.py", "    return a + b\n", "    return b + a\n")


def test_list_show_and_discard(repo: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(monkeypatch, repo, "proposals") == 0 and "no proposals" in capsys.readouterr().out
    data = _propose(monkeypatch, repo, capsys, SWAP)
    ident = data["branch"].split("/")[1].split("-")[0]
    assert cli(monkeypatch, repo, "proposals", "--json") == 0
    (prop,) = json.loads(capsys.readouterr().out)
    assert prop["id"] == ident and prop["status"] == "open" and prop["intent"] == "apply"
    assert prop["cost"] == 0 and prop["commit"] == data["commit"]
    assert cli(monkeypatch, repo, "proposals") == 0 and ident in capsys.readouterr().out
    assert cli(monkeypatch, repo, "show", ident) == 0
    out = capsys.readouterr().out
    assert "+    return b + a" in out and "Atlas-Intent: apply" in out
    assert cli(monkeypatch, repo, "show", "nope") == 2
    assert cli(monkeypatch, repo, "discard", ident) == 0
    assert atlas_branches(repo) == []


def test_accept_fast_forwards_and_squash_stages(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 0
    assert git(repo, "rev-parse", "HEAD").strip() == data["commit"]
    assert (repo / "app.py").read_text().endswith("return b + a\n")
    assert atlas_branches(repo) == []
    data = _propose(monkeypatch, repo, capsys,
                    search_replace("README.md", "# demo\n", "# demo\n\nMore.\n"))
    head = git(repo, "rev-parse", "HEAD").strip()
    assert cli(monkeypatch, repo, "accept", "--squash", data["branch"]) == 0
    assert git(repo, "rev-parse", "HEAD").strip() == head  # staged, not committed
    assert git(repo, "diff", "--cached", "--name-only").split() == ["README.md"]


def test_accept_onto_a_moved_branch_cherry_picks(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    (repo / "README.md").write_text("# demo\nmoved on\n")
    git(repo, "commit", "-qam", "user work")
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 0
    log = git(repo, "log", "--format=%s", "-3").splitlines()
    assert log[0].startswith("atlas:") and log[1] == "user work"
    assert "Atlas-Request: apply" in git(repo, "log", "-1", "--format=%B")


def test_accept_refuses_a_clash_with_uncommitted_work_and_changes_nothing(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    (repo / "app.py").write_text("def add(a, b):\n    return a + b  # mine\n")
    before = snapshot(repo)
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 1
    err = capsys.readouterr().err
    assert "uncommitted changes in app.py" in err and "nothing was changed" in err
    assert snapshot(repo) == before and atlas_branches(repo) == [data["branch"]]
    # Staged-only work clashes too.
    git(repo, "add", "app.py")
    before = snapshot(repo)
    assert cli(monkeypatch, repo, "accept", "--squash", data["branch"]) == 1
    assert snapshot(repo) == before


def test_accept_refuses_a_conflict_with_the_current_branch(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    (repo / "app.py").write_text("def add(a, b):\n    return sum((a, b))\n")
    git(repo, "commit", "-qam", "conflicting")
    before = snapshot(repo)
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 1
    assert "does not apply" in capsys.readouterr().err
    assert snapshot(repo) == before


def test_gc_cleans_leftovers_of_a_killed_run(repo: Path) -> None:
    """A run SIGKILLed after creating its worktree leaves debris that gc removes."""
    patch = repo.parent / "p.txt"
    patch.write_text(SWAP)
    before = snapshot(repo)
    env = {**os.environ, "ATLAS_FAULT_AT": "files-written"}
    proc = subprocess.run([sys.executable, "-m", "atlas_git", "apply", str(patch)], cwd=repo, env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == -9
    assert len(worktrees(repo)) == 2 and list((repo / ".atlas" / "locks").glob("*.lock"))
    assert snapshot(repo) == before and atlas_branches(repo) == []
    # A half-made branch (no atlas commit) from some older interrupted run.
    git(repo, "branch", "atlas/deadbeef-half", "HEAD")
    result = run_cli("gc", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["worktrees"]) == 1 and report["branches"] == ["atlas/deadbeef-half"]
    assert len(report["locks"]) == 1
    assert worktrees(repo) == [str(repo)] and atlas_branches(repo) == []
    assert list((repo / ".atlas" / "worktrees").iterdir()) == []
    assert snapshot(repo) == before
    assert run_cli("gc", cwd=repo).stdout.strip() == "nothing to clean"


def test_gc_leaves_a_live_run_alone(repo: Path) -> None:
    from atlas_git.core.executor import worktree as wt
    from atlas_git.core.executor.proposals import collect_garbage

    base = wt.resolve_base(repo, None)
    with wt.run_lock(repo, "live0001"), wt.scratch_worktree(repo, "live0001", base) as scratch:
        report = collect_garbage(repo)
        assert report.total == 0 and scratch.path.is_dir()
    assert worktrees(repo) == [str(repo)]


def test_accept_a_staged_proposal_stacks_on_the_staged_changes(
        repo: Path, fake_llm: object, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from atlas_git.testing.fake_llm import Reply

    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n")
    git(repo, "add", "app.py")
    fake_llm.push(Reply(search_replace("app.py", "    return a * b\n", "    return b * a\n")))  # type: ignore[attr-defined]
    capsys.readouterr()
    assert cli(monkeypatch, repo, "edit", "swap mul", "--staged", "--tier", "gold", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert cli(monkeypatch, repo, "accept", data["id"]) == 0
    assert "staged changes" in capsys.readouterr().out
    assert git(repo, "rev-parse", "HEAD").strip() == head
    staged = git(repo, "show", ":app.py")
    assert "def mul" in staged and "return b * a" in staged
    assert (repo / "app.py").read_text() == staged and atlas_branches(repo) == []


def test_accept_next_to_unrelated_staged_work(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    (repo / "README.md").write_text("# demo\nmoved on\n")
    git(repo, "commit", "-qam", "user work")
    (repo / "notes.txt").write_text("staged note\n")
    git(repo, "add", "notes.txt")
    before = snapshot(repo)
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 1
    assert "--squash" in capsys.readouterr().err and snapshot(repo) == before
    assert cli(monkeypatch, repo, "accept", "--squash", data["branch"]) == 0
    assert sorted(git(repo, "diff", "--cached", "--name-only").split()) == ["app.py", "notes.txt"]
    assert (repo / "app.py").read_text().endswith("return b + a\n")


def test_a_proposal_merged_by_hand_is_listed_as_merged(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = _propose(monkeypatch, repo, capsys, SWAP)
    git(repo, "merge", "-q", "--ff-only", data["branch"])
    assert cli(monkeypatch, repo, "proposals", "--json") == 0
    (prop,) = json.loads(capsys.readouterr().out)
    assert prop["status"] == "merged"
    assert cli(monkeypatch, repo, "accept", data["branch"]) == 1
    assert "already part of the current branch" in capsys.readouterr().err
