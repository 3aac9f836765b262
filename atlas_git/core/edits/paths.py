"""Path safety: an edit may only touch ordinary files inside the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

from atlas_git.adapters import git
from atlas_git.errors import AtlasError

# Characters git itself ignores when checking for ".git" (HFS+ / NTFS tricks).
_IGNORABLE = re.compile("[\u200b-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _is_git_dir_name(component: str) -> bool:
    name = _IGNORABLE.sub("", component).rstrip(". ").lower()
    # "git~1" is the NTFS short name git refuses as well.
    return name in (".git", "git~1")


def _gitlinks(repo_root: Path) -> list[str]:
    """Paths of submodules (index entries with mode 160000)."""
    # clean_env: inside a hook GIT_DIR/GIT_INDEX_FILE would point at the user's repo.
    _, out, _ = git.run(["ls-files", "-s", "-z"], cwd=repo_root, check=False, env=git.clean_env())
    links = []
    for entry in out.split("\0"):
        if entry.startswith("160000 "):
            links.append(entry.split("\t", 1)[1])
    return links


def check_path(repo_root: Path, path: str) -> str:
    """Return ``path`` as a normalised repo-relative POSIX path, or refuse it.

    Refused with :class:`AtlasError`: empty paths, NUL bytes, absolute paths,
    any ``..`` component, ``.git`` internals (any case), paths through a
    symbolic link or to one, paths inside a submodule or nested repository,
    and directories.
    """
    shown = path.replace("\0", "\\0")
    if "\0" in path:
        raise AtlasError(f"refused path {shown!r}: contains a NUL byte")
    raw = path.strip()
    if not raw:
        raise AtlasError("refused an empty path")
    raw = raw.replace("\\", "/")
    if raw.startswith("/") or _DRIVE.match(raw) or raw.startswith("~"):
        raise AtlasError(f"refused path {shown!r}: absolute paths leave the repository")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts:
        raise AtlasError(f"refused path {shown!r}: not a file path")
    if ".." in parts:
        raise AtlasError(f"refused path {shown!r}: '..' leaves the repository")
    if any(_is_git_dir_name(p) for p in parts):
        raise AtlasError(f"refused path {shown!r}: git internals (.git) are never edited")
    rel = "/".join(parts)
    for link in _gitlinks(repo_root):
        if rel == link or rel.startswith(link + "/"):
            raise AtlasError(f"refused path {rel!r}: it is inside the submodule {link}")

    root = Path(os.path.realpath(repo_root))
    current = root
    for i, part in enumerate(parts):
        current = current / part
        if current.is_symlink():
            link = "/".join(parts[: i + 1])
            if _inside(Path(os.path.realpath(current)), root):
                raise AtlasError(f"refused path {rel!r}: {link} is a symbolic link")
            raise AtlasError(f"refused path {rel!r}: {link} is a symbolic link pointing "
                             "outside the repository")
        if i < len(parts) - 1 and current.is_dir() and (current / ".git").exists():
            raise AtlasError(f"refused path {rel!r}: {'/'.join(parts[: i + 1])} is a "
                             "nested repository or submodule")
    if current.is_dir():
        raise AtlasError(f"refused path {rel!r}: it is a directory")
    if not _inside(Path(os.path.realpath(current)), root):
        raise AtlasError(f"refused path {rel!r}: it resolves outside the repository")
    return rel


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
