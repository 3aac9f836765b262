"""check_path: every way a model's path could leave the repository, in a real repo."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from atlas_git.core.edits import check_path
from atlas_git.errors import AtlasError
from tests.conftest import git


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("x = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    return root


@pytest.mark.parametrize(
    "path, expected",
    [
        ("src/app.py", "src/app.py"),
        ("./src/app.py", "src/app.py"),
        ("src//new.py", "src/new.py"),
        ("src\\win.py", "src/win.py"),
        ("docs/new dir/notes.md", "docs/new dir/notes.md"),
    ],
)
def test_ordinary_paths_are_normalised(work: Path, path: str, expected: str) -> None:
    assert check_path(work, path) == expected


@pytest.mark.parametrize(
    "path, message",
    [
        ("../outside.py", "'..' leaves the repository"),
        ("src/../../x", "'..' leaves the repository"),
        ("/etc/passwd", "absolute paths"),
        ("C:/Windows/x", "absolute paths"),
        ("~/.bashrc", "absolute paths"),
        (".git/config", "git internals"),
        ("src/.GIT/hooks/pre-commit", "git internals"),
        (".git", "git internals"),
        (".git\u200c/config", "git internals"),
        ("src/x\0.py", "NUL byte"),
        ("", "empty path"),
        ("src", "is a directory"),
    ],
)
def test_escapes_are_refused(work: Path, path: str, message: str) -> None:
    with pytest.raises(AtlasError, match=message):
        check_path(work, path)


def test_symlink_pointing_outside_is_refused(work: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, work / "escape")
    os.symlink(outside / "f.txt", work / "src" / "f.txt")
    with pytest.raises(AtlasError, match="escape is a symbolic link pointing outside"):
        check_path(work, "escape/evil.py")
    with pytest.raises(AtlasError, match="pointing outside the repository"):
        check_path(work, "src/f.txt")
    assert not (outside / "evil.py").exists()


def test_symlink_inside_the_repo_is_refused_too(work: Path) -> None:
    # git stores the link itself; writing through it would edit another file.
    os.symlink("app.py", work / "src" / "alias.py")
    with pytest.raises(AtlasError, match=r"src/alias\.py is a symbolic link"):
        check_path(work, "src/alias.py")


def test_paths_inside_a_submodule_are_refused(work: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    (lib / "lib.py").write_text("y = 2\n")
    git(lib, "add", ".")
    git(lib, "commit", "-q", "-m", "lib")
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib"],
        cwd=work, check=True, capture_output=True,
    )
    with pytest.raises(AtlasError, match="vendor/lib"):
        check_path(work, "vendor/lib/lib.py")
    with pytest.raises(AtlasError, match="submodule"):
        check_path(work, "vendor/lib")
    # A submodule not checked out is still a gitlink in the index.
    subprocess.run(["git", "submodule", "deinit", "-q", "-f", "vendor/lib"], cwd=work, check=True,
                   capture_output=True)
    with pytest.raises(AtlasError, match="inside the submodule vendor/lib"):
        check_path(work, "vendor/lib/lib.py")


def test_nested_repository_is_refused(work: Path) -> None:
    nested = work / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    with pytest.raises(AtlasError, match="nested repository"):
        check_path(work, "nested/file.py")
