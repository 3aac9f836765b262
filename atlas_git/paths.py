"""Where atlas-git keeps things: the user dir and the repo's ``.atlas/``."""

from __future__ import annotations

import os
from pathlib import Path

from atlas_git.adapters import git
from atlas_git.errors import AtlasError

APP_NAME = "atlas-git"
ATLAS_DIRNAME = ".atlas"
# State that must never be committed; config.toml stays committable on purpose.
_EXCLUDE_LINES = (
    "/.atlas/*",
    "!/.atlas/config.toml",
)


def user_dir() -> Path:
    """The per-user config dir: ``$ATLAS_HOME`` or the platform's config dir."""
    home = os.environ.get("ATLAS_HOME")
    if home:
        return Path(home)
    import platformdirs  # local import: only needed when ATLAS_HOME is unset

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """The per-user cache dir (optimized models, logs)."""
    home = os.environ.get("ATLAS_HOME")
    if home:
        return Path(home) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def find_repo(cwd: str | os.PathLike[str] | None = None) -> Path | None:
    """The main worktree of the repo around ``cwd``, or None outside a repo."""
    try:
        return git.main_worktree(cwd)
    except AtlasError:
        return None


def atlas_dir(cwd: str | os.PathLike[str] | None = None, *, create: bool = True) -> Path:
    """The repository's shared ``.atlas/`` folder, created on first use.

    Resolved through ``git rev-parse --git-common-dir`` so that every linked
    worktree (including our own scratch worktrees) shares one ledger.
    """
    root = git.main_worktree(cwd)
    path = root / ATLAS_DIRNAME
    if create:
        try:
            path.mkdir(exist_ok=True)
        except OSError as exc:
            raise AtlasError(
                f"cannot create {path}: {exc.strerror}",
                hint="check permissions, or set ATLAS_DISABLE_STATE=1",
            ) from exc
        _ensure_excluded(git.common_dir(cwd))
    return path


def _ensure_excluded(common: Path) -> None:
    """Add ``.atlas`` state to ``.git/info/exclude`` once (idempotent)."""
    exclude = common / "info" / "exclude"
    try:
        existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        missing = [line for line in _EXCLUDE_LINES if line not in existing.splitlines()]
        if not missing:
            return
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as fh:
            if existing and not existing.endswith("\n"):
                fh.write("\n")
            fh.write("# atlas-git local state\n" + "\n".join(missing) + "\n")
    except OSError:
        # Read-only .git is unusual but not fatal: state still works.
        pass
