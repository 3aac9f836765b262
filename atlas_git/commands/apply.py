"""``git atlas apply``: an edit from elsewhere (a chat window, another tool) → proposal branch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from atlas_git import ui
from atlas_git.adapters import git
from atlas_git.commands.fix import diffstat
from atlas_git.config import load_config
from atlas_git.core.executor.pipeline import MAX_EDIT_BYTES, decode_edit_input, run_apply
from atlas_git.errors import EXIT_FAILURE, EXIT_OK, UsageError


def _read_input(source: str) -> bytes:
    if source == "-":
        if sys.stdin.isatty():
            raise UsageError("reading the edit from stdin, but stdin is a terminal",
                             hint="pipe the edit in, or pass a FILE")
        return sys.stdin.buffer.read(MAX_EDIT_BYTES + 1)
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"{source}: no such file")
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_EDIT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {exc.strerror}") from exc


def apply(source: str = "-", *, base: str | None = None, branch: str | None = None,
          no_test: bool = False, test: str | None = None, json_out: bool = False) -> int:
    """Apply an edit onto ``base`` in a scratch worktree and propose it as a branch."""
    root = git.repo_root()
    config = load_config(git.main_worktree(root))
    text = decode_edit_input(_read_input(source), source="stdin" if source == "-" else source)
    outcome = run_apply(root, text, config=config, base_rev=base, branch=branch, no_test=no_test,
                        test_command=test)
    fully = outcome.status == "applied" and (outcome.checks is None or outcome.checks.ok) \
        and outcome.branch is not None
    if json_out:
        ui.out(json.dumps(outcome.to_apply_json(), indent=2))
    else:
        for err in outcome.errors:
            ui.info(f"  {' '.join(err.split())[:300]}")
        if outcome.branch:
            state = "checks passed" if outcome.checks is None or outcome.checks.ok else "CHECKS FAILED"
            ui.out(f"applied {outcome.hunks_applied} hunk(s) to {len(outcome.files)} file(s): "
                   f"{outcome.branch} ({(outcome.commit or '')[:10]}), {state}")
            if outcome.commit:
                ui.out(diffstat(outcome.commit))
            ui.info(f"  git atlas show {outcome.run_id} | git atlas accept {outcome.run_id}")
        elif outcome.status == "applied":
            ui.out("nothing to apply: the change is already present at the base")
        else:
            ui.out(f"{outcome.status}: {outcome.hunks_applied} hunk(s) applied, "
                   f"{outcome.hunks_failed} failed; no branch was created")
    if outcome.status == "applied" and outcome.branch is None and not outcome.hunks_failed:
        return EXIT_OK  # already present: nothing to do is not a failure
    return EXIT_OK if fully else EXIT_FAILURE
