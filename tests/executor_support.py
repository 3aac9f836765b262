"""Helpers shared by the executor tests: user-state snapshots and scripted edits."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from atlas_git.cli import main


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def snapshot(repo: Path) -> dict[str, str]:
    """Everything of the user's that must stay byte-identical across a run."""
    state: dict[str, str] = {}
    index = repo / ".git" / "index"
    state["index"] = hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else "-"
    state["HEAD"] = (repo / ".git" / "HEAD").read_text()
    state["stash"] = _git(repo, "stash", "list")
    refs = _git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    state["refs"] = "\n".join(r for r in refs.splitlines() if not r.startswith("refs/heads/atlas/"))
    files = []
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel.startswith((".git/", ".atlas/")) or rel in (".git", ".atlas") or not path.is_file():
            continue
        files.append(f"{rel} {hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mode:o}")
    state["tree"] = "\n".join(files)
    return state


def atlas_branches(repo: Path) -> list[str]:
    out = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/atlas/")
    return [line for line in out.splitlines() if line]


def worktrees(repo: Path) -> list[str]:
    out = _git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def cli(monkeypatch: object, repo: Path, *args: str) -> int:
    """Run the CLI in-process from ``repo``."""
    monkeypatch.chdir(repo)  # type: ignore[attr-defined]
    return main(list(args))


def search_replace(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"
