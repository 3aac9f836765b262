"""The shared path from edit text to a proposal branch.

``prepare_edits`` parses, checks every path and applies the edits to the
base commit's contents in memory; ``propose`` writes the result into a
scratch worktree, runs the checks and commits it on a new branch. ``apply``
(no model) is just these two steps; ``fix`` loops over them with the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.config import Config
from atlas_git.core.executor import worktree as wtmod
from atlas_git.core.executor.checks import CheckReport, run_checks
from atlas_git.errors import AtlasError, UsageError

MAX_EDIT_BYTES = 2_000_000


class PathRefused(AtlasError):
    """An edit names a path outside the repository (or .git, a submodule, a symlink out)."""


@dataclass
class Prepared:
    """Edits applied in memory to the base: what would be written."""

    status: str  # applied | partial | refused
    files: dict[str, str | None]
    hunks_applied: int
    hunks_failed: int
    already_applied: int
    errors: list[str]


@dataclass
class Outcome:
    """The result of a run, for text and ``--json`` output."""

    status: str
    run_id: str | None = None
    branch: str | None = None
    commit: str | None = None
    base: str | None = None
    files: list[str] = field(default_factory=list)
    hunks_applied: int = 0
    hunks_failed: int = 0
    errors: list[str] = field(default_factory=list)
    checks: CheckReport | None = None
    cost: float = 0.0
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_apply_json(self) -> dict[str, Any]:
        """The ``git atlas apply --json`` contract (plus check details)."""
        data: dict[str, Any] = {
            "status": self.status, "branch": self.branch, "commit": self.commit,
            "files": self.files, "hunks_applied": self.hunks_applied,
            "hunks_failed": self.hunks_failed, "errors": self.errors,
        }
        if self.checks is not None:
            data["checks"] = {"ok": self.checks.ok, "ran": self.checks.ran,
                              "failures": [str(f) for f in self.checks.failures]}
        return data


def decode_edit_input(data: bytes, *, source: str) -> str:
    """Edit text from raw bytes; empty, huge, binary or non-UTF-8 input is refused."""
    if not data.strip():
        raise UsageError(f"{source}: no input (expected a diff or SEARCH/REPLACE blocks)")
    if len(data) > MAX_EDIT_BYTES:
        raise UsageError(f"{source}: input is {len(data)} bytes; the limit is {MAX_EDIT_BYTES}")
    if b"\0" in data:
        raise UsageError(f"{source}: binary input (NUL bytes); expected a text diff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not valid UTF-8 (byte {exc.start})") from exc


def prepare_edits(root: Path, base: str, text: str) -> Prepared:
    """Parse ``text``, vet every path, apply to ``base`` in memory.

    A path that leaves the repository raises :class:`AtlasError` before
    anything is read or written; text with no edits raises :class:`UsageError`.
    """
    from atlas_git.core.edits import apply_edits, check_path, parse_edits

    try:
        edits = parse_edits(text)
    except UsageError:
        raise
    except AtlasError as exc:
        # Malformed edit text is bad input (exit 2), not a failed run.
        raise UsageError(exc.message, hint=exc.hint) from exc
    if not edits:
        raise UsageError("no edits found (expected a unified diff, SEARCH/REPLACE blocks or whole files)")
    # Normalise through check_path: it refuses .., absolute paths, .git, submodules, symlinks out.
    try:
        for edit in edits:
            edit.path = check_path(root, edit.path)
            if edit.old_path:
                edit.old_path = check_path(root, edit.old_path)
    except AtlasError as exc:
        raise PathRefused(exc.message, hint=exc.hint) from exc

    def read(path: str) -> str | None:
        return wtmod.read_blob(root, base, check_path(root, path))

    result = apply_edits(edits, read)
    return Prepared(result.status, dict(result.files), result.hunks_applied, result.hunks_failed,
                    result.already_applied, list(result.errors))


def test_settings(config: Config, test_command: str | None, no_test: bool) -> tuple[str, str]:
    """(test command, lint command) after flags and config."""
    if no_test:
        return "", ""
    test = test_command if test_command is not None else str(config.get("executor.test_command", ""))
    return test, str(config.get("executor.lint_command", ""))


def check_in(scratch: wtmod.Scratch, changed: Sequence[str], config: Config, *, test_command: str,
             lint_command: str) -> CheckReport:
    """Run the checks in the scratch worktree under the configured sandbox limits."""
    return run_checks(
        scratch.path, changed, test_command=test_command, lint_command=lint_command,
        timeout=float(config.get("executor.sandbox_timeout", 120)),
        memory_mb=int(config.get("executor.sandbox_memory_mb", 2048)),
        output_bytes=int(config.get("executor.sandbox_output_bytes", 200_000)),
    )


def commit_proposal(scratch: wtmod.Scratch, *, request: str, trailers: Mapping[str, str],
                    branch: str) -> str:
    """Commit the scratch worktree (hooks run) and create the branch; returns the commit."""
    message = wtmod.commit_message(request, {**trailers, "Atlas-Base": scratch.base})
    commit = scratch.commit(message)
    wtmod.fault_point("committed")
    wtmod.create_branch(scratch.root, branch, commit)
    wtmod.fault_point("branch-created")
    return commit


def branch_name(run_id: str, request: str, explicit: str | None = None) -> str:
    return explicit or f"{wtmod.BRANCH_PREFIX}{run_id}-{wtmod.slugify(request)}"


def run_apply(root: Path, text: str, *, config: Config, base_rev: str | None, branch: str | None,
              no_test: bool, test_command: str | None = None) -> Outcome:
    """``git atlas apply``: parse, apply, check and commit with no model call."""
    from atlas_git.core.executor.proposals import collect_garbage

    wtmod.refuse_recursion()
    base = wtmod.resolve_base(root, base_rev)
    if branch:
        wtmod.validate_branch_name(root, branch)
    collect_garbage(root)
    try:
        prepared = prepare_edits(root, base, text)
    except PathRefused as exc:
        return Outcome(status="refused", base=base, errors=[str(exc)])
    outcome = Outcome(status=prepared.status, base=base, hunks_applied=prepared.hunks_applied,
                      hunks_failed=prepared.hunks_failed, errors=prepared.errors,
                      files=sorted(prepared.files))
    if prepared.status != "applied":
        # Nothing half-done is ever committed: a partial edit is reported, not proposed.
        outcome.files = []
        return outcome
    if not prepared.files:
        outcome.status = "applied"
        outcome.errors.append("every hunk is already present at the base; nothing to commit")
        return outcome
    run_id = wtmod.new_id()
    name = branch_name(run_id, "apply", branch)
    test, lint = test_settings(config, test_command, no_test)
    with wtmod.run_lock(root, run_id), wtmod.scratch_worktree(root, run_id, base) as scratch:
        scratch.write_files(prepared.files)
        wtmod.fault_point("files-written")
        changed = scratch.changed_paths()
        if not changed:
            outcome.errors.append("the edit leaves every file as it was; nothing to commit")
            return outcome
        report = check_in(scratch, changed, config, test_command=test, lint_command=lint)
        wtmod.fault_point("checks-done")
        trailers = {"Atlas-Request": "apply", "Atlas-Intent": "apply", "Atlas-Tier": "none",
                    "Atlas-Model": "none", "Atlas-Cost": "0",
                    "Atlas-Checks": "passed" if report.ok else "failed"}
        try:
            outcome.commit = commit_proposal(scratch, request="apply an edit", trailers=trailers,
                                             branch=name)
        except wtmod.HookRejected as exc:
            outcome.status, outcome.files = "refused", []
            outcome.errors.append(str(exc))
            return outcome
        outcome.branch, outcome.run_id, outcome.files, outcome.checks = name, run_id, changed, report
        if not report.ok:
            outcome.errors.extend(str(f) for f in report.failures)
    return outcome


def require_llm(config: Config) -> None:
    """The repo opt-out: nothing is ever sent when ``settings.llm = false``."""
    from atlas_git.core.calls import llm_allowed

    if not llm_allowed(config):
        raise AtlasError("LLM calls are disabled for this repository (settings.llm = false); "
                         "nothing was sent", hint="format and apply work without a model")
