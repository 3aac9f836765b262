"""Proposals: the ``atlas/*`` branches runs leave behind, and their upkeep.

A proposal is one commit on ``atlas/<id>-<slug>`` whose trailers say what
was asked, by which model, at what cost. ``accept`` brings it into the
current branch only after proving it cannot clash with uncommitted work;
``gc`` removes what interrupted runs left (worktrees, locks, branches
without an atlas commit).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.adapters import git
from atlas_git.core.executor import worktree as wtmod
from atlas_git.errors import AtlasError, UsageError

_SEP = "\x1f"
_END = "\x1e"


@dataclass
class Proposal:
    """One ``atlas/*`` branch and what its commit says about itself."""

    branch: str
    commit: str
    date: str
    subject: str
    trailers: dict[str, str] = field(default_factory=dict)
    status: str = "open"

    @property
    def id(self) -> str:
        name = self.branch[len(wtmod.BRANCH_PREFIX):] if self.branch.startswith(wtmod.BRANCH_PREFIX) \
            else self.branch
        return name.split("-", 1)[0]

    @property
    def cost(self) -> float:
        try:
            return float(self.trailers.get("Atlas-Cost", "0") or 0)
        except ValueError:
            return 0.0

    @property
    def base(self) -> str | None:
        return self.trailers.get("Atlas-Base")

    def to_json(self) -> dict[str, Any]:
        t = self.trailers
        return {"id": self.id, "branch": self.branch, "commit": self.commit, "date": self.date,
                "status": self.status, "request": t.get("Atlas-Request"),
                "intent": t.get("Atlas-Intent"), "tier": t.get("Atlas-Tier"),
                "model": t.get("Atlas-Model"), "cost": self.cost, "checks": t.get("Atlas-Checks"),
                "base": self.base}


def _parse_trailers(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.startswith("Atlas-"):
            out[key.strip()] = value.strip()
    return out


def list_proposals(root: Path, *, with_status: bool = True) -> list[Proposal]:
    """Every ``atlas/*`` branch, newest first, with its status.

    Without ``with_status`` only "incomplete" is detected (no per-branch git
    call): what ``gc`` needs at the start of every run.
    """
    fmt = _SEP.join(["%(refname)", "%(objectname)", "%(committerdate:iso-strict)", "%(subject)",
                     "%(trailers:only,unfold)"]) + _END
    _, out, _ = git.run(["for-each-ref", "--sort=-committerdate", f"--format={fmt}",
                         "refs/heads/atlas/"], cwd=root)
    merged: set[str] = set()
    if with_status and git.head_commit(root):
        # One call for all: which proposal tips HEAD already contains.
        _, names, _ = git.run(["for-each-ref", "--merged=HEAD", "--format=%(refname)", "refs/heads/atlas/"],
                              cwd=root)
        merged = set(names.split())
    found = []
    for record in out.split(_END):
        record = record.strip("\n")
        if not record:
            continue
        ref, commit, date, subject, trailers = (record.split(_SEP) + [""] * 5)[:5]
        prop = Proposal(ref.removeprefix("refs/heads/"), commit, date, subject, _parse_trailers(trailers))
        if "Atlas-Request" not in prop.trailers:
            prop.status = "incomplete"
        elif ref in merged:
            prop.status = "merged"
        elif prop.trailers.get("Atlas-Checks") == "failed":
            prop.status = "checks-failed"
        found.append(prop)
    return found


def find_proposal(root: Path, ident: str) -> Proposal:
    """A proposal by id, id prefix or branch name; ambiguity is an error."""
    ident = ident.strip()
    if not ident:
        raise UsageError("no proposal id given")
    props = list_proposals(root)
    exact = [p for p in props if ident in (p.branch, p.id, p.branch.removeprefix(wtmod.BRANCH_PREFIX))]
    matches = exact or [p for p in props if p.id.startswith(ident)
                        or p.branch.removeprefix(wtmod.BRANCH_PREFIX).startswith(ident)]
    if not matches:
        raise UsageError(f"no proposal {ident!r}", hint="`git atlas proposals` lists them")
    if len(matches) > 1:
        names = ", ".join(p.branch for p in matches[:5])
        raise UsageError(f"{ident!r} matches several proposals: {names}")
    return matches[0]


def proposal_diff(root: Path, prop: Proposal, *, color: bool = False) -> str:
    """The proposal's commit message, stat and patch, produced by git."""
    _, out, _ = git.run(["show", "--no-ext-diff", "--stat", "--patch", "--format=fuller",
                         "--color=always" if color else "--no-color", prop.commit], cwd=root)
    return out


def changed_files(root: Path, prop: Proposal) -> list[str]:
    parent = prop.base or f"{prop.commit}^"
    _, out, _ = git.run(["diff", "--no-ext-diff", "--no-renames", "--name-only", "-z", parent, prop.commit],
                        cwd=root)
    return [p for p in out.split("\0") if p]


def _dirty(root: Path, paths: list[str]) -> list[str]:
    """Which of ``paths`` have uncommitted (staged, unstaged or untracked) changes."""
    if not paths:
        return []
    _, out, _ = git.run(["--no-optional-locks", "status", "--porcelain=v1", "-z",
                         "--untracked-files=all", "--", *paths], cwd=root)
    entries = [e for e in out.split("\0") if e]
    return sorted({e[3:] for e in entries if len(e) > 3})


def _applies_to_head(root: Path, prop: Proposal) -> str | None:
    """None when the proposal's change applies cleanly to HEAD, else git's complaint.

    Checked against a throwaway index, so the user's index is never read-locked
    or rewritten.
    """
    parent = prop.base or f"{prop.commit}^"
    _, patch, _ = git.run_bytes(["diff", "--no-ext-diff", "--binary", "--full-index", parent, prop.commit],
                                cwd=root)
    if not patch.strip():
        return None
    with tempfile.TemporaryDirectory(prefix="atlas-accept-") as tmp:
        env = git.clean_env({"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        git.run(["read-tree", "HEAD"], cwd=root, env=env)
        rc, _, err = git.run_bytes(["apply", "--cached", "--check"], cwd=root, env=env, input=patch,
                                   check=False)
    return None if rc == 0 else " ".join(err.split())[:300]


def accept(root: Path, ident: str, *, squash: bool = False) -> tuple[Proposal, str]:
    """Bring a proposal into the current branch; returns (proposal, what was done)."""
    prop = find_proposal(root, ident)
    if prop.status == "incomplete":
        raise AtlasError(f"{prop.branch} is an incomplete proposal", hint="run `git atlas gc`")
    head = git.head_commit(root)
    if head is None:
        raise AtlasError("the current branch has no commits to accept a proposal into")
    if prop.status == "merged":
        raise AtlasError(f"{prop.branch} is already part of the current branch")
    for marker in ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD"):
        _, path, _ = git.run(["rev-parse", "--path-format=absolute", "--git-path", marker], cwd=root)
        if Path(path.strip()).exists():
            raise AtlasError("a merge, cherry-pick or rebase is in progress; finish it first")
    parent = prop.base or git.run(["rev-parse", f"{prop.commit}^"], cwd=root)[1].strip()
    if _made_from_staged(root, parent, head):
        return prop, _apply_onto_staged(root, prop, parent)
    files = changed_files(root, prop)
    clash = _dirty(root, files)
    if clash:
        raise AtlasError(
            f"not accepted: uncommitted changes in {', '.join(clash[:5])} would clash with "
            f"{prop.branch}; nothing was changed", hint="commit or stash them, then accept again")
    problem = _applies_to_head(root, prop)
    if problem:
        raise AtlasError(f"not accepted: {prop.branch} does not apply to the current branch "
                         f"({problem}); nothing was changed",
                         hint="discard it and ask again from the current HEAD")
    if squash:
        # Patch the index and tree directly: works next to unrelated staged work,
        # which `git cherry-pick --no-commit` would refuse.
        _, patch, _ = git.run_bytes(["diff", "--no-ext-diff", "--binary", "--full-index", parent,
                                     prop.commit], cwd=root)
        rc, _, err = git.run_bytes(["apply", "--index"], cwd=root, input=patch, check=False)
        if rc != 0:
            raise AtlasError(f"accept failed: {' '.join(err.split())[:300]}; nothing was changed")
        _delete_branch(root, prop)
        return prop, "staged its changes (commit them with git commit)"
    if parent == head:
        args = ["merge", "--ff-only", "-q", prop.commit]
        done = "fast-forwarded"
    else:
        _, head_tree, _ = git.run(["rev-parse", "HEAD^{tree}"], cwd=root)
        if wtmod.index_tree(root) != head_tree.strip():
            raise AtlasError("not accepted: you have staged changes and the proposal needs a new "
                             "commit on top of HEAD; nothing was changed",
                             hint=f"commit them first, or `git atlas accept --squash {prop.id}` "
                             "to stage the proposal next to them")
        args = ["cherry-pick", "--allow-empty", prop.commit]
        done = "cherry-picked onto the current branch"
    rc, out, err = git.run(args, cwd=root, check=False)
    if rc != 0:
        if args[0] == "cherry-pick":
            _, seq, _ = git.run(["rev-parse", "--path-format=absolute", "--git-path", "CHERRY_PICK_HEAD"],
                                cwd=root)
            if Path(seq.strip()).exists():
                git.run(["cherry-pick", "--abort"], cwd=root, check=False)
        raise AtlasError(f"accept failed: {' '.join((err or out).split())[:300]}")
    _delete_branch(root, prop)
    return prop, done


def _made_from_staged(root: Path, parent: str, head: str) -> bool:
    """True for a ``--staged`` proposal whose base is exactly what is staged right now."""
    if parent == head:
        return False
    rc, _, _ = git.run(["merge-base", "--is-ancestor", parent, head], cwd=root, check=False)
    if rc == 0:
        return False
    _, base_tree, _ = git.run(["rev-parse", f"{parent}^{{tree}}"], cwd=root)
    return base_tree.strip() == wtmod.index_tree(root)


def _apply_onto_staged(root: Path, prop: Proposal, parent: str) -> str:
    """Put a ``--staged`` proposal's changes on top of the staged changes (index and tree)."""
    _, patch, _ = git.run_bytes(["diff", "--no-ext-diff", "--binary", "--full-index", parent, prop.commit],
                                cwd=root)
    rc, _, err = git.run_bytes(["apply", "--index", "--check"], cwd=root, input=patch, check=False)
    if rc != 0:
        raise AtlasError(f"not accepted: {prop.branch} clashes with unstaged changes "
                         f"({' '.join(err.split())[:200]}); nothing was changed",
                         hint="stash or stage your unstaged changes, then accept again")
    git.run_bytes(["apply", "--index"], cwd=root, input=patch)
    _delete_branch(root, prop)
    return "applied on top of your staged changes (staged, not committed)"


def _delete_branch(root: Path, prop: Proposal) -> None:
    git.run(["update-ref", "-d", f"refs/heads/{prop.branch}", prop.commit], cwd=root,
            env=git.clean_env())


def discard(root: Path, ident: str) -> Proposal:
    """Delete a proposal's branch."""
    prop = find_proposal(root, ident)
    _delete_branch(root, prop)
    return prop


@dataclass
class GcReport:
    worktrees: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    locks: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.worktrees) + len(self.branches) + len(self.locks)


def collect_garbage(root: Path) -> GcReport:
    """Remove leftovers of interrupted runs; never touches a live run.

    A run holds an flock on ``.atlas/locks/<id>.lock`` for its whole life, so
    anything whose lock can be taken belongs to a dead process.
    """
    from atlas_git.paths import atlas_dir

    report = GcReport()
    env = git.clean_env()
    with wtmod.worktree_mutex(root):
        git.run(["worktree", "prune"], cwd=root, env=env, check=False)
        _, listing, _ = git.run(["worktree", "list", "--porcelain"], cwd=root, env=env, check=False)
    base = atlas_dir(root)
    locks = base / "locks"
    wtdir = base / "worktrees"
    if locks.is_dir():
        # "*.lock" are runs; ".<id>.<pid>.tmp" are locks a killed run never renamed.
        for lock in [*locks.glob("*.lock"), *locks.glob(".*.tmp")]:
            if wtmod.lock_is_stale(lock):
                with contextlib.suppress(OSError):
                    lock.unlink()
                    report.locks.append(lock.name)
    # Registered scratch worktrees, including ones whose directory is gone or
    # that `git worktree add` left locked ("initializing") when it was killed.
    registered = [Path(line[len("worktree "):]) for line in listing.splitlines()
                  if line.startswith("worktree ")]
    ours = {p for p in registered if p.parent == wtdir or p.parent.resolve() == wtdir.resolve()}
    if wtdir.is_dir():
        ours |= set(wtdir.iterdir())
    for path in sorted(ours):
        # Checked per worktree, right before removal: a run takes its lock
        # before it creates its worktree, so a worktree we can see whose lock
        # is held belongs to a live run.
        if not wtmod.lock_is_stale(locks / f"{path.name}.lock"):
            continue
        wtmod.remove_worktree(root, path)
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
        report.worktrees.append(path.name)
    for prop in list_proposals(root, with_status=False):
        if prop.status == "incomplete" and wtmod.lock_is_stale(locks / f"{prop.id}.lock"):
            rc, _, _ = git.run(["update-ref", "-d", f"refs/heads/{prop.branch}", prop.commit],
                               cwd=root, env=env, check=False)
            if rc == 0:
                report.branches.append(prop.branch)
    return report
