"""Scratch worktrees and proposal branches.

A run works in ``.atlas/worktrees/<id>``, a linked worktree on a detached HEAD
at the base commit. Only when the commit is made (through ``git commit``, so
the repo's hooks run) is the branch ``atlas/<id>-<slug>`` created, with
``update-ref`` refusing to overwrite anything. So an interrupted run never
leaves a half-made branch, only a worktree and a lock that ``gc`` removes.
Every git command here runs with :func:`git.clean_env`: inside a hook git
exports ``GIT_INDEX_FILE``/``GIT_DIR``, which would redirect it to the user's
index.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from atlas_git.adapters import git
from atlas_git.errors import AtlasError, UsageError
from atlas_git.paths import atlas_dir

BRANCH_PREFIX = "atlas/"
ZERO_OID = "0" * 40
TRAILER_KEYS = ("Atlas-Request", "Atlas-Intent", "Atlas-Tier", "Atlas-Model", "Atlas-Cost",
                "Atlas-Checks", "Atlas-Base")


class HookRejected(AtlasError):
    """The repository's commit hooks refused the proposal commit; ``detail`` is their output."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        short = " ".join(detail.split())[:400] or "(no output)"
        super().__init__(f"the proposal commit was rejected by the repository's hooks: {short}",
                         hint="no branch was created")


def fault_point(step: str) -> None:
    """Test hook: ``ATLAS_FAULT_AT=<step>`` makes the process SIGKILL itself at ``step``.

    Used only by ``benchmarks/fault_injection.py`` and its test to prove an
    interrupted run leaves the user's state untouched. Steps: ``worktree-added``,
    ``files-written``, ``checks-done``, ``committed``, ``branch-created``.
    """
    if os.environ.get("ATLAS_FAULT_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def refuse_recursion() -> None:
    """Stop a hook that runs atlas from recursing through our own proposal commit.

    Our commit runs the repo's hooks with ``ATLAS_PROPOSAL_COMMIT=1``; a hook
    that calls ``git atlas fix/apply`` again would otherwise commit, run the
    hook, commit... without end.
    """
    if os.environ.get("ATLAS_PROPOSAL_COMMIT"):
        raise AtlasError("refusing to start a proposal from inside atlas's own proposal commit "
                         "(ATLAS_PROPOSAL_COMMIT is set)",
                         hint="hooks should skip atlas work when ATLAS_PROPOSAL_COMMIT=1")


def new_id() -> str:
    """A short unique proposal id (hex; collisions are also refused by update-ref)."""
    return uuid.uuid4().hex[:8]


def slugify(text: str, limit: int = 40) -> str:
    """A branch-name-safe slug of a request."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = slug[:limit].rstrip("-")
    return slug or "change"


def validate_branch_name(root: Path, name: str) -> str:
    """Refuse names git would reject or that already exist (nothing changed)."""
    rc, _, _ = git.run(["check-ref-format", "--branch", name], cwd=root, check=False)
    if rc != 0 or name.startswith("-"):
        raise UsageError(f"invalid branch name: {name!r}")
    rc, _, _ = git.run(["rev-parse", "--verify", "-q", f"refs/heads/{name}"], cwd=root, check=False)
    if rc == 0:
        raise UsageError(f"branch {name!r} already exists", hint="choose another --branch name")
    return name


def resolve_base(root: Path, rev: str | None) -> str:
    """The commit id of ``rev`` (default HEAD); a clear error when there is none."""
    target = rev or "HEAD"
    rc, out, _ = git.run(["rev-parse", "--verify", "-q", "--end-of-options", f"{target}^{{commit}}"],
                         cwd=root, check=False)
    if rc != 0 or not out.strip():
        if rev is None:
            raise AtlasError("the repository has no commits yet", hint="make a first commit")
        raise UsageError(f"unknown revision: {rev!r}")
    return out.strip()


def index_tree(root: Path) -> str:
    """The tree of the user's index, computed on a copy so the index itself is untouched.

    ``git write-tree`` rewrites the cache-tree extension of the index it reads,
    and inside a hook the index is ``$GIT_INDEX_FILE``, not ``.git/index``.
    """
    _, index_path, _ = git.run(["rev-parse", "--path-format=absolute", "--git-path", "index"], cwd=root)
    source = Path(os.environ.get("GIT_INDEX_FILE") or index_path.strip())
    if not source.is_absolute():
        source = root / source
    with tempfile.TemporaryDirectory(prefix="atlas-index-") as tmp:
        copy = Path(tmp) / "index"
        if source.is_file():
            shutil.copyfile(source, copy)
        env = git.clean_env({"GIT_INDEX_FILE": str(copy)})
        _, tree, _ = git.run(["write-tree"], cwd=root, env=env)
    return tree.strip()


def staged_base(root: Path) -> str:
    """A commit of the index on top of HEAD, made without touching the user's index."""
    head = resolve_base(root, None)
    tree = index_tree(root)
    _, head_tree, _ = git.run(["rev-parse", f"{head}^{{tree}}"], cwd=root)
    if tree == head_tree.strip():
        raise UsageError("nothing is staged", hint="stage changes with git add, or drop --staged")
    _, commit, _ = git.run(["commit-tree", tree, "-p", head, "-m", "atlas: staged changes"],
                           cwd=root, env=git.clean_env(_fallback_identity(root)))
    return commit.strip()


def read_blob(root: Path, base: str, path: str) -> str | None:
    """The text of ``path`` at ``base``; None when absent. Binary/non-UTF-8 → AtlasError."""
    rc, data, _ = git.run_bytes(["cat-file", "blob", f"{base}:{path}"], cwd=root, check=False)
    if rc != 0:
        return None
    if b"\0" in data[:8192]:
        raise AtlasError(f"{path} is a binary file; atlas edits text files only")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AtlasError(f"{path} is not valid UTF-8; atlas edits UTF-8 text only") from exc


def _fallback_identity(root: Path) -> dict[str, str]:
    """An identity for our commits only when the user has none configured."""
    rc, _, _ = git.run(["var", "GIT_COMMITTER_IDENT"], cwd=root, check=False,
                       env=git.clean_env())
    if rc == 0:
        return {}
    return {"GIT_AUTHOR_NAME": "atlas-git", "GIT_AUTHOR_EMAIL": "atlas-git@localhost",
            "GIT_COMMITTER_NAME": "atlas-git", "GIT_COMMITTER_EMAIL": "atlas-git@localhost"}


# -- locks -------------------------------------------------------------------

def locks_dir(root: Path) -> Path:
    path = atlas_dir(root) / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def run_lock(root: Path, run_id: str) -> Iterator[Path]:
    """Hold ``.atlas/locks/<id>.lock`` (flock) for the life of a run.

    ``gc`` treats a worktree whose lock can be taken as abandoned; a live run
    keeps its flock, so a concurrent ``gc`` never removes it. The lock file is
    created under a temporary name, locked, and only then renamed into place:
    no other process can ever see it unlocked while its run is alive.
    """
    directory = locks_dir(root)
    path = directory / f"{run_id}.lock"
    tmp = directory / f".{run_id}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    # SIGTERM (a CI timeout, `kill`) becomes an exception so the worktree is
    # removed on the way out; SIGKILL leaves it to `gc`.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.rename(tmp, path)
        yield path
    finally:
        for leftover in (tmp, path):
            with contextlib.suppress(OSError):
                leftover.unlink()
        os.close(fd)
        if main:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"terminated by signal {signum}")


def lock_is_stale(path: Path) -> bool:
    """True when no live process holds the flock on ``path``."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    finally:
        os.close(fd)
    return True


# -- the scratch worktree ----------------------------------------------------

@dataclass
class Scratch:
    """A detached scratch worktree at ``base`` for run ``run_id``."""

    root: Path  # the user's main worktree
    run_id: str
    base: str
    path: Path
    env: dict[str, str] = field(default_factory=dict)

    def git(self, *args: str, check: bool = True, extra_env: Mapping[str, str] | None = None,
            input: str | None = None) -> tuple[int, str, str]:
        """Run git inside the scratch worktree, never against the user's index."""
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        return git.run(list(args), cwd=self.path, env=env, check=check, input=input)

    def write_files(self, files: Mapping[str, str | None]) -> list[str]:
        """Write new contents (None = delete); returns the changed paths."""
        changed = []
        top = self.path.resolve()
        for rel, content in sorted(files.items()):
            target = self.path / rel
            if top not in target.resolve().parents:
                # check_path already refused these; this is the last line of defence.
                raise AtlasError(f"refused to write {rel!r}: outside the scratch worktree")
            if content is None:
                if target.is_file() or target.is_symlink():
                    target.unlink()
                    changed.append(rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # newline="" keeps the edit engine's line endings exactly.
            with target.open("w", encoding="utf-8", newline="") as fh:
                fh.write(content)
            changed.append(rel)
        return changed

    def reset(self) -> None:
        """Back to the base commit (between attempts)."""
        self.git("reset", "-q", "--hard", self.base)
        self.git("clean", "-q", "-fd")

    def changed_paths(self) -> list[str]:
        """Stage the worktree and return the paths that differ from the base."""
        self.git("add", "-A")
        _, out, _ = self.git("diff", "--cached", "--name-only", "-z", "--no-renames", self.base)
        return [p for p in out.split("\0") if p]

    def commit(self, message: str) -> str:
        """Commit the index through ``git commit`` (hooks run) and return the commit id.

        Only what :meth:`changed_paths` staged (the edit itself, before any check
        ran) is committed: caches and artifacts that tests leave behind are not.
        """
        extra = {"ATLAS_PROPOSAL_COMMIT": "1", **_fallback_identity(self.path)}
        rc, out, err = self.git("commit", "-q", "--no-gpg-sign", "-F", "-", check=False,
                                extra_env=extra, input=message)
        if rc != 0:
            raise HookRejected((err.strip() or out.strip())[-4000:])
        _, sha, _ = self.git("rev-parse", "HEAD")
        return sha.strip()


def worktrees_dir(root: Path) -> Path:
    path = atlas_dir(root) / "worktrees"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def worktree_mutex(root: Path) -> Iterator[None]:
    """Serialise ``git worktree add/remove/prune/list`` among atlas processes.

    These commands read every worktree's admin directory and fail ("failed to
    read .git/worktrees/<id>/commondir") on one another process is still
    creating. Held for milliseconds; not a run lock (``gc`` ignores it).
    """
    fd = os.open(locks_dir(root) / "worktrees.mutex", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def scratch_worktree(root: Path, run_id: str, base: str) -> Iterator[Scratch]:
    """Create the scratch worktree, yield it, and always remove it afterwards."""
    refuse_recursion()
    path = worktrees_dir(root) / run_id
    env = git.clean_env()
    # Hooks off for the checkout only (a post-checkout hook has no business in a
    # scratch tree); the commit later runs the repo's hooks normally.
    with worktree_mutex(root):
        git.run(["-c", "core.hooksPath=/dev/null", "worktree", "add", "-q", "--detach", str(path), base],
                cwd=root, env=env)
    scratch = Scratch(root, run_id, base, path, env)
    try:
        fault_point("worktree-added")
        yield scratch
    finally:
        remove_worktree(root, path)


def remove_worktree(root: Path, path: Path) -> None:
    """Remove a scratch worktree and its admin data; tolerate half-made and locked ones."""
    env = git.clean_env()
    with worktree_mutex(root):
        git.run(["worktree", "unlock", str(path)], cwd=root, env=env, check=False)
        rc, _, _ = git.run(["worktree", "remove", "--force", "--force", str(path)], cwd=root, env=env,
                           check=False)
        if rc != 0 and path.exists():
            shutil.rmtree(path, ignore_errors=True)
        git.run(["worktree", "prune"], cwd=root, env=env, check=False)


def commit_message(request: str, trailers: Mapping[str, str]) -> str:
    """Subject from the request, then a trailer block git can parse back."""
    one_line = " ".join(request.split())
    subject = one_line if len(one_line) <= 72 else one_line[:69] + "..."
    lines = [f"atlas: {subject}", ""]
    body = [f"{key}: {' '.join(str(value).split())}" for key, value in trailers.items()]
    return "\n".join(lines + body) + "\n"


def create_branch(root: Path, name: str, commit: str) -> None:
    """Create ``refs/heads/<name>`` at ``commit``; refuses to overwrite an existing ref."""
    rc, _, err = git.run(["update-ref", "-m", "atlas: proposal", f"refs/heads/{name}", commit, ZERO_OID],
                         cwd=root, env=git.clean_env(), check=False)
    if rc != 0:
        raise AtlasError(f"cannot create branch {name}: {' '.join(err.split())[:200]}")
