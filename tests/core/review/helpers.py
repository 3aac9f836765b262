"""Shared helpers for review tests: stage files in a real repo and review them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from atlas_git.config import load_config
from atlas_git.core.review import diff, engine
from atlas_git.core.review.findings import ReviewResult
from tests.conftest import git


def stage(repo: Path, files: Mapping[str, str | bytes | None]) -> None:
    """Write (or delete, for None) files and stage exactly them."""
    for name, content in files.items():
        path = repo / name
        if content is None:
            git(repo, "rm", "-q", "--cached", name)
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        git(repo, "add", "--", name)


def review_staged(repo: Path, files: Mapping[str, str | bytes | None] | None = None, *,
                  offline: bool = True) -> ReviewResult:
    if files:
        stage(repo, files)
    request = engine.ReviewRequest(diff.select(staged=True, env={}), (), offline, repo)
    return engine.run_review(request, load_config(repo), repo, env={})


def rules(result: ReviewResult) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.rule) for f in result.findings)
