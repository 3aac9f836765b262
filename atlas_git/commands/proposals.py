"""``git atlas proposals | show | accept | discard | gc``."""

from __future__ import annotations

import json
import sys

from atlas_git import ui
from atlas_git.adapters import git
from atlas_git.core.executor import proposals as core
from atlas_git.errors import EXIT_OK


def proposals(*, json_out: bool = False) -> int:
    """List the proposal branches."""
    root = git.repo_root()
    props = core.list_proposals(root)
    if json_out:
        ui.out(json.dumps([p.to_json() for p in props], indent=2))
        return EXIT_OK
    if not props:
        ui.out("no proposals")
        return EXIT_OK
    for p in props:
        t = p.trailers
        request = " ".join((t.get("Atlas-Request") or p.subject).split())
        request = request if len(request) <= 50 else request[:47] + "..."
        ui.out(f"{p.id:<9} {p.status:<13} {t.get('Atlas-Intent', '-'):<9} "
               f"{t.get('Atlas-Model', '-'):<32} ${p.cost:<8.4f} {request}")
    return EXIT_OK


def show(ident: str, *, json_out: bool = False) -> int:
    """A proposal's metadata and diff."""
    root = git.repo_root()
    prop = core.find_proposal(root, ident)
    if json_out:
        data = prop.to_json()
        data["files"] = core.changed_files(root, prop)
        data["diff"] = core.proposal_diff(root, prop)
        ui.out(json.dumps(data, indent=2))
        return EXIT_OK
    ui.out(f"proposal {prop.id}  branch {prop.branch}  status {prop.status}  cost ${prop.cost:.4f}")
    ui.out(core.proposal_diff(root, prop, color=ui.use_color(sys.stdout)).rstrip("\n"))
    return EXIT_OK


def accept(ident: str, *, squash: bool = False) -> int:
    """Bring a proposal into the current branch (refuses on any clash, changing nothing)."""
    root = git.repo_root()
    prop, done = core.accept(root, ident, squash=squash)
    ui.out(f"accepted {prop.branch}: {done}")
    return EXIT_OK


def discard(ident: str) -> int:
    """Delete a proposal branch."""
    prop = core.discard(git.repo_root(), ident)
    ui.out(f"discarded {prop.branch} (was {prop.commit[:10]})")
    return EXIT_OK


def gc(*, json_out: bool = False) -> int:
    """Remove leftovers of interrupted runs."""
    report = core.collect_garbage(git.repo_root())
    if json_out:
        ui.out(json.dumps({"worktrees": report.worktrees, "branches": report.branches,
                           "locks": report.locks}))
        return EXIT_OK
    if not report.total:
        ui.out("nothing to clean")
        return EXIT_OK
    ui.out(f"removed {len(report.worktrees)} worktree(s), {len(report.branches)} incomplete "
           f"branch(es), {len(report.locks)} stale lock(s)")
    return EXIT_OK
