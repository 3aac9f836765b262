"""Diff parsing against real git: statuses, added lines, and the awkward cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_git.core.review import diff
from atlas_git.errors import UsageError
from tests.conftest import git
from tests.core.review.helpers import stage


def staged(repo: Path) -> dict[str, diff.FileDiff]:
    return {f.path: f for f in diff.diff_files(diff.select(staged=True, env={}), cwd=repo)}


def test_added_lines_are_new_side_numbers(repo: Path) -> None:
    stage(repo, {"app.py": "import os\ndef add(a, b):\n    return a + b + 0\n\nX = 1\n"})
    f = staged(repo)["app.py"]
    assert f.status == "M"
    assert f.added == [1, 3, 4, 5]
    assert f.added_text[3] == "    return a + b + 0"
    assert [(h.new_start, h.new_count) for h in f.hunks] == [(1, 1), (3, 3)]


def test_rename_with_edit_flags_only_the_changed_line(repo: Path) -> None:
    body = "".join(f"line {i}\n" for i in range(20))
    stage(repo, {"old.txt": body})
    git(repo, "commit", "-qm", "old")
    git(repo, "mv", "old.txt", "new name.txt")
    stage(repo, {"new name.txt": body.replace("line 7\n", "line seven\n")})
    f = staged(repo)["new name.txt"]
    assert f.status == "R" and f.old_path == "old.txt"
    assert f.added == [8]


def test_deletion_binary_mode_change_and_typechange(repo: Path) -> None:
    stage(repo, {"bin.dat": b"\x00\x01\x02binary\xff" * 10, "README.md": None})
    (repo / "app.py").chmod(0o755)
    git(repo, "add", "app.py")
    files = staged(repo)
    assert files["README.md"].deleted and files["README.md"].added == []
    assert files["bin.dat"].binary and files["bin.dat"].added == []
    assert files["app.py"].new_mode == "100755" and files["app.py"].added == []
    git(repo, "commit", "-qm", "x")
    (repo / "bin.dat").unlink()
    (repo / "bin.dat").symlink_to("app.py")
    git(repo, "add", "bin.dat")
    f = staged(repo)["bin.dat"]
    assert f.status == "T" and f.is_symlink and not f.has_content and f.added == [1]


def test_submodule_gitlink(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/sub")
    f = staged(repo)["vendor/sub"]
    assert f.is_submodule and not f.has_content


def test_initial_commit_without_head(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    stage(tmp_path, {"a.py": "x = 1\ny = 2\n"})
    f = staged(tmp_path)["a.py"]
    assert f.status == "A" and f.added == [1, 2] and f.is_new


def test_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    stage(repo, {"app.py": "def add(a, b):\n    return b + a\n"})
    assert staged(repo)["app.py"].added == [2]


def test_odd_names_and_non_utf8_content(repo: Path) -> None:
    stage(repo, {"dir/na\u00efve name.txt": b"caf\xe9\nok\n"})
    f = staged(repo)["dir/na\u00efve name.txt"]
    assert f.added == [1, 2]
    blobs = diff.read_blobs([f.new_sha], cwd=repo)
    assert blobs[f.new_sha] == b"caf\xe9\nok\n"


def test_ranges_and_base(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    stage(repo, {"app.py": "def add(a, b):\n    return a - b\n"})
    git(repo, "commit", "-qm", "feature")
    for sel in (diff.select(rev_range=f"{base}..HEAD", env={}), diff.select(base="main", env={}),
                diff.select(rev_range="main...feature", env={})):
        files = {f.path: f for f in diff.diff_files(sel, cwd=repo)}
        assert files["app.py"].added == [2], sel


def test_pre_push_refs_from_pre_commit_env(repo: Path) -> None:
    sel = diff.select(env={"PRE_COMMIT_FROM_REF": "abc", "PRE_COMMIT_TO_REF": "def"})
    assert sel.kind == "range" and sel.revs == ("abc...def",)


@pytest.mark.parametrize("kwargs", [
    {"staged": True, "base": "main"},
    {"rev_range": "HEAD"},
    {"rev_range": "--output=x..HEAD"},
    {"base": "-x"},
])
def test_bad_selectors_are_usage_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        diff.select(env={}, **kwargs)  # type: ignore[arg-type]


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(UsageError, match="cannot review"):
        diff.diff_files(diff.select(rev_range="nope..HEAD", env={}), cwd=repo)


def test_paths_limit_the_diff(repo: Path) -> None:
    stage(repo, {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    files = diff.diff_files(diff.select(staged=True, env={}), ["b.py"], cwd=repo)
    assert [f.path for f in files] == ["b.py"]
