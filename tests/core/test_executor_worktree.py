"""Scratch worktrees, staged bases, locks and concurrent runs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from atlas_git.core.executor import worktree as wt
from atlas_git.errors import AtlasError
from tests.conftest import git
from tests.executor_support import atlas_branches, search_replace, snapshot, worktrees


def test_scratch_worktree_is_removed_even_on_error(repo: Path) -> None:
    base = wt.resolve_base(repo, None)
    with pytest.raises(RuntimeError), wt.scratch_worktree(repo, "abc12345", base) as scratch:
        assert (scratch.path / "app.py").is_file()
        raise RuntimeError("boom")
    assert worktrees(repo) == [str(repo)] and not scratch.path.exists()


def test_staged_base_leaves_the_index_byte_identical(repo: Path) -> None:
    (repo / "app.py").write_text("def add(a, b):\n    return a + b + 0\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("unstaged\n")
    before = snapshot(repo)
    commit = wt.staged_base(repo)
    assert snapshot(repo) == before
    assert git(repo, "show", f"{commit}:app.py") == "def add(a, b):\n    return a + b + 0\n"
    assert git(repo, "rev-parse", f"{commit}^").strip() == git(repo, "rev-parse", "HEAD").strip()


def test_nothing_staged_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(AtlasError, match="nothing is staged"):
        wt.staged_base(repo)


def test_branch_creation_never_overwrites(repo: Path) -> None:
    head = wt.resolve_base(repo, None)
    wt.create_branch(repo, "atlas/x-1", head)
    with pytest.raises(AtlasError):
        wt.create_branch(repo, "atlas/x-1", head)


def test_lock_is_live_while_held_and_stale_after(repo: Path) -> None:
    with wt.run_lock(repo, "lockid01") as path:
        assert not wt.lock_is_stale(path)
    assert wt.lock_is_stale(path)


def test_commit_message_trailers_parse_back(repo: Path) -> None:
    msg = wt.commit_message("fix it\nplease " + "x" * 100, {"Atlas-Request": "fix it\nplease",
                                                            "Atlas-Cost": "0.001"})
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=msg, text=True,
                            capture_output=True, check=True).stdout
    assert "Atlas-Request: fix it please" in parsed and "Atlas-Cost: 0.001" in parsed
    assert len(msg.splitlines()[0]) <= 80


def test_proposal_commit_runs_the_repo_hooks(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "commit-msg"
    marker = repo.parent / "hook-ran"
    hook.write_text(f'#!/bin/sh\necho "$ATLAS_PROPOSAL_COMMIT" > {marker}\n')
    hook.chmod(0o755)
    patch = repo.parent / "p.txt"
    patch.write_text(search_replace("app.py", "    return a + b\n", "    return b + a\n"))
    proc = subprocess.run([sys.executable, "-m", "atlas_git", "apply", "--json", str(patch)], cwd=repo,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text().strip() == "1"
    # A hook that rejects the commit stops the proposal cleanly.
    hook.write_text("#!/bin/sh\necho 'policy: no robots' >&2\nexit 1\n")
    proc = subprocess.run([sys.executable, "-m", "atlas_git", "apply", "--json", str(patch)], cwd=repo,
                          capture_output=True, text=True, timeout=60)
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data["status"] == "refused" and data["branch"] is None
    assert "policy: no robots" in data["errors"][0]
    assert len(atlas_branches(repo)) == 1 and worktrees(repo) == [str(repo)]


def test_concurrent_runs_do_not_collide(repo: Path) -> None:
    before = snapshot(repo)
    results: list[dict] = []
    patches = []
    for i in range(6):
        patch = repo.parent / f"p{i}.txt"
        patch.write_text(search_replace(f"new{i}.py", "", f"VALUE = {i}\n"))
        patches.append(patch)

    def run(patch: Path) -> None:
        proc = subprocess.run([sys.executable, "-m", "atlas_git", "apply", "--json", str(patch)],
                              cwd=repo, capture_output=True, text=True, timeout=120)
        results.append(json.loads(proc.stdout) if proc.returncode == 0 else {"err": proc.stderr})

    threads = [threading.Thread(target=run, args=(p,)) for p in patches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("branch" in r for r in results), results
    assert len({r["branch"] for r in results}) == 6 and len(atlas_branches(repo)) == 6
    assert snapshot(repo) == before and worktrees(repo) == [str(repo)]
