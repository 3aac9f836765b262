"""``git atlas hooks install|uninstall|status``: native git hooks that run the review.

The hooks directory is git's own answer (``git rev-parse --git-path hooks``),
so ``core.hooksPath`` is honoured. An existing hook is never overwritten: it
is renamed to ``<type>.atlas-chained`` and our hook runs it first;
``uninstall`` puts it back. Our hooks carry a marker line so we only ever
replace or remove files we wrote.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from atlas_git import ui
from atlas_git.adapters import git
from atlas_git.errors import EXIT_OK, AtlasError, UsageError

HOOK_TYPES: tuple[str, ...] = ("pre-commit", "pre-push")
MARKER = "# atlas-git managed hook"
CHAINED_SUFFIX = ".atlas-chained"


def templates_dir() -> Path:
    """The shipped hook scripts: ``atlas_git/hooks`` in a wheel, ``hooks/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "hooks", here.parent / "hooks"):
        if (candidate / "pre-commit").is_file():
            return candidate
    raise AtlasError(f"hook scripts not found next to {here}", hint="reinstall atlas-git")


def hooks_dir(cwd: Path | None = None) -> Path:
    """Where git runs hooks from for this repository (``core.hooksPath`` honoured)."""
    git.repo_root(cwd)
    _, out, _ = git.run(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=cwd)
    return Path(out.strip())


def _is_ours(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except OSError:
        return False


def _script(hook_type: str) -> str:
    text = (templates_dir() / hook_type).read_text(encoding="utf-8")
    # The interpreter that installed us, so the hook works without PATH set up (GUI clients).
    return text.replace("@ATLAS_PYTHON@", shlex.quote(sys.executable))


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".atlas-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
    os.replace(tmp, path)


def _types(types: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(types)) or ["pre-commit"]
    for t in chosen:
        if t not in HOOK_TYPES:
            raise UsageError(f"unknown hook type {t!r}", hint=f"choose {' or '.join(HOOK_TYPES)}")
    return chosen


def install(types: Sequence[str] = (), cwd: Path | None = None) -> int:
    """Install our hook(s), chaining whatever hook was there before."""
    directory = hooks_dir(cwd)
    for hook_type in _types(types):
        path = directory / hook_type
        chained = directory / (hook_type + CHAINED_SUFFIX)
        script = _script(hook_type)
        if path.exists() or path.is_symlink():
            if _is_ours(path):
                _write_executable(path, script)
                ui.out(f"updated the atlas {hook_type} hook in {directory}")
                continue
            if chained.exists() or chained.is_symlink():
                raise AtlasError(f"{chained} already exists next to a foreign {hook_type} hook",
                                 hint="move one of them away, then run install again")
            path.rename(chained)
            _write_executable(path, script)
            ui.out(f"installed the atlas {hook_type} hook in {directory} "
                   f"(your existing hook runs first, kept as {chained.name})")
            continue
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AtlasError(f"cannot create {directory}: {exc.strerror}") from exc
        _write_executable(path, script)
        ui.out(f"installed the atlas {hook_type} hook in {directory}")
    return EXIT_OK


def uninstall(types: Sequence[str] = (), cwd: Path | None = None) -> int:
    """Remove our hook(s) and restore the hook each one chained."""
    directory = hooks_dir(cwd)
    for hook_type in _types(types):
        path = directory / hook_type
        chained = directory / (hook_type + CHAINED_SUFFIX)
        if not (path.exists() or path.is_symlink()):
            ui.out(f"no {hook_type} hook installed in {directory}")
            continue
        if not _is_ours(path):
            raise AtlasError(f"{path} was not installed by atlas-git; left alone")
        path.unlink()
        if chained.exists() or chained.is_symlink():
            chained.rename(path)
            ui.out(f"removed the atlas {hook_type} hook; restored your previous hook")
        else:
            ui.out(f"removed the atlas {hook_type} hook")
    return EXIT_OK


def status(cwd: Path | None = None) -> int:
    """Say, per hook type, whether ours is installed and whether it chains another."""
    directory = hooks_dir(cwd)
    for hook_type in HOOK_TYPES:
        path = directory / hook_type
        chained = directory / (hook_type + CHAINED_SUFFIX)
        if _is_ours(path):
            extra = f", chaining {chained.name}" if chained.exists() else ""
            state = f"installed{extra}"
        elif path.exists():
            state = "another hook is installed (not atlas)"
        else:
            state = "not installed"
        ui.out(f"{hook_type}: {state} ({path})")
    return EXIT_OK
