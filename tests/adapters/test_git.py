from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from atlas_git.adapters import git
from atlas_git.errors import AtlasError
from atlas_git.paths import atlas_dir
from tests.conftest import git as tgit


def test_run_returns_streams_and_error_names_command(repo: Path) -> None:
    rc, out, _ = git.run(["rev-parse", "HEAD"], cwd=repo)
    assert rc == 0 and len(out.strip()) == 40
    with pytest.raises(git.GitError) as info:
        git.run(["rev-parse", "--verify", "no-such-ref"], cwd=repo)
    assert "git rev-parse --verify no-such-ref failed" in str(info.value)
    assert "\n" not in str(info.value)


def test_outside_repo_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AtlasError, match="not inside a git repository"):
        git.repo_root(tmp_path)


def test_clean_env_strips_hook_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_INDEX_FILE", "/tmp/x")
    monkeypatch.setenv("GIT_DIR", "/tmp/y")
    env = git.clean_env()
    assert "GIT_INDEX_FILE" not in env and "GIT_DIR" not in env
    assert env["GIT_AUTHOR_NAME"] == os.environ["GIT_AUTHOR_NAME"]


def test_atlas_dir_shared_by_worktrees_and_excluded(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    tgit(repo, "worktree", "add", "-q", str(wt), "-b", "other")
    assert atlas_dir(wt) == repo / ".atlas"
    (repo / ".atlas" / "usage.db").write_text("x")
    (repo / ".atlas" / "config.toml").write_text("")
    status = tgit(repo, "status", "--porcelain", "--untracked-files=all")
    assert "usage.db" not in status
    assert ".atlas/config.toml" in status  # team settings stay committable
    atlas_dir(repo)  # idempotent
    exclude = (repo / ".git" / "info" / "exclude").read_text()
    assert exclude.count("/.atlas/*") == 1


def test_head_commit_none_in_empty_repo(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert git.head_commit(tmp_path) is None
