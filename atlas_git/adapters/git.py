"""The one wrapper around the git executable.

Every git call in atlas-git goes through :func:`run`. Machine-read output uses
``-z`` / ``--no-ext-diff`` / ``--no-color`` at the call sites. Failures raise
:class:`GitError`, which names the command and shows both streams.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from atlas_git.errors import AtlasError

# Variables git exports inside hooks; they would redirect a command run in
# another worktree back to the user's index, so they are stripped there.
_GIT_LOCAL_VARS_PREFIX = "GIT_"
# These GIT_* variables are about identity/config, not location: keep them.
_KEEP_GIT_VARS = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_EDITOR",
        "GIT_TERMINAL_PROMPT",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
    }
)


class GitError(AtlasError):
    """A git command failed; carries the command, exit code and both streams."""

    def __init__(self, args: Sequence[str], rc: int, stdout: str, stderr: str) -> None:
        self.args_list = list(args)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = stderr.strip() or stdout.strip() or "(no output)"
        super().__init__(f"git {' '.join(args)} failed (exit {rc}): {detail}")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without location-bearing ``GIT_*`` variables.

    Use it for any command that works in another worktree or repo, so that a
    run inside a git hook cannot touch the user's index (GIT_INDEX_FILE) or
    repository (GIT_DIR, GIT_WORK_TREE).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_GIT_LOCAL_VARS_PREFIX) or k in _KEEP_GIT_VARS
    }
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    text: bool = True,
    timeout: float | None = None,
) -> tuple[int, str, str]:
    """Run ``git ARGS`` and return ``(rc, stdout, stderr)``.

    With ``check`` (the default) a non-zero exit raises :class:`GitError`.
    Output is decoded as UTF-8 with ``surrogateescape`` so that odd bytes in
    file names or contents never crash a caller.
    """
    cmd = ["git", *args]
    data = input.encode("utf-8", "surrogateescape") if isinstance(input, str) else input
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            input=data,
            capture_output=True,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise AtlasError("git is not installed or not on PATH", hint="install git 2.30+") from exc
    except subprocess.TimeoutExpired as exc:
        raise AtlasError(f"git {' '.join(args)} timed out after {timeout}s") from exc
    out = proc.stdout.decode("utf-8", "surrogateescape") if text else proc.stdout.decode("latin-1")
    err = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, out, err)
    return proc.returncode, out, err


def run_bytes(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, bytes, str]:
    """Like :func:`run` but returns stdout as raw bytes (blobs, binary diffs)."""
    cmd = ["git", *args]
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, input=input, capture_output=True,
            env=dict(env) if env is not None else None, check=False,
        )
    except FileNotFoundError as exc:
        raise AtlasError("git is not installed or not on PATH", hint="install git 2.30+") from exc
    err = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stdout.decode("utf-8", "replace"), err)
    return proc.returncode, proc.stdout, err


def repo_root(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The top of the current worktree; a clear error outside a repository."""
    rc, out, _ = run(["rev-parse", "--show-toplevel"], cwd=cwd, check=False)
    if rc != 0 or not out.strip():
        raise AtlasError("not inside a git repository", hint="run this from a git work tree")
    return Path(out.strip())


def common_dir(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The repository's common git dir, shared by all its worktrees."""
    rc, out, _ = run(["rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=cwd, check=False)
    if rc != 0 or not out.strip():
        raise AtlasError("not inside a git repository", hint="run this from a git work tree")
    return Path(out.strip())


def main_worktree(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The main worktree of the repository (where ``.atlas/`` lives).

    Resolved from the common dir so every linked worktree maps to the same
    place; for a bare-style layout it falls back to the current top level.
    """
    cdir = common_dir(cwd)
    if cdir.name == ".git":
        return cdir.parent
    return repo_root(cwd)


def head_commit(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The commit HEAD points at, or None in a repo with no commits yet."""
    rc, out, _ = run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd=cwd, check=False)
    return out.strip() if rc == 0 and out.strip() else None


def ls_files(cwd: str | os.PathLike[str] | None = None, *args: str) -> list[str]:
    """Tracked (or, with extra args, otherwise selected) paths, NUL-safe."""
    _, out, _ = run(["ls-files", "-z", *args], cwd=cwd)
    return [p for p in out.split("\0") if p]


def staged_diff(cwd: str | os.PathLike[str] | None = None, *extra: str) -> str:
    """``git diff --cached`` in a machine-stable form."""
    _, out, _ = run(
        ["diff", "--cached", "--no-ext-diff", "--no-color", "--no-renames", *extra], cwd=cwd
    )
    return out
