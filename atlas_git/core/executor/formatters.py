"""Real formatters for the ``format`` intent: no model, no cost.

Python: ``ruff format`` (``black`` when ruff is missing). JS/TS: ``prettier``.
Shell: ``shfmt``. Each runs only when installed, inside the scratch worktree.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.core.executor.sandbox import run_sandboxed

_PY = (".py", ".pyi")
_JS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".css", ".scss", ".html", ".vue")
_SH = (".sh", ".bash")


@dataclass
class FormatRun:
    """What ran and what could not."""

    ran: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _python_formatter() -> list[str] | None:
    if shutil.which("ruff"):
        return ["ruff", "format", "--quiet", "--no-cache"]
    if shutil.which("black"):
        return ["black", "--quiet"]
    try:
        import ruff  # noqa: F401  # the wheel ships the binary next to the interpreter
    except ImportError:
        return None
    return [sys.executable, "-m", "ruff", "format", "--quiet", "--no-cache"]


def formatter_plan(paths: Sequence[str]) -> list[tuple[str, list[str] | None, list[str]]]:
    """(language, command or None when not installed, files) per language present."""
    groups = {
        "python": ([p for p in paths if p.endswith(_PY)], _python_formatter()),
        "javascript/typescript": ([p for p in paths if p.endswith(_JS)],
                                  ["prettier", "--write", "--log-level", "warn"]
                                  if shutil.which("prettier") else None),
        "shell": ([p for p in paths if p.endswith(_SH)],
                  ["shfmt", "-w"] if shutil.which("shfmt") else None),
    }
    return [(lang, cmd, files) for lang, (files, cmd) in groups.items() if files]


def run_formatters(worktree: Path, paths: Sequence[str], *, timeout: float = 120.0) -> FormatRun:
    """Format ``paths`` in place inside ``worktree``."""
    result = FormatRun()
    for lang, cmd, files in formatter_plan(paths):
        if cmd is None:
            result.missing.append(lang)
            continue
        # In chunks: a repo-wide format must not exceed the argument limit.
        for i in range(0, len(files), 200):
            chunk = files[i : i + 200]
            run = run_sandboxed([*cmd, "--", *chunk] if cmd[0] != "prettier" else [*cmd, *chunk],
                                cwd=worktree, timeout=timeout)
            result.ran.append(f"{cmd[0] if cmd[0] != sys.executable else 'ruff'} ({len(chunk)} files)")
            if not run.ok:
                result.errors.append(f"{cmd[0]}: {' '.join(run.output.split())[:300]}")
    return result


def formattable(paths: Sequence[str]) -> list[str]:
    """The subset of ``paths`` some formatter handles."""
    return [p for p in paths if p.endswith(_PY + _JS + _SH)]


def run_format(root: Path, base: str, opts: Any, config: Any, *, decision: Any = None) -> Any:
    """The ``format`` intent: formatters in a scratch worktree, a proposal at $0, no provider call."""
    from atlas_git.core.executor import worktree as wtmod
    from atlas_git.core.executor.context import ignored, tracked_files
    from atlas_git.core.executor.pipeline import Outcome, branch_name, check_in, commit_proposal
    from atlas_git.core.executor.proposals import collect_garbage

    candidates = tracked_files(root, base)
    if opts.paths:
        chosen = []
        for path in opts.paths:
            prefix = path.rstrip("/") + "/"
            chosen += [c for c in candidates if c == path or c.startswith(prefix)]
    else:
        chosen = candidates
    chosen = [p for p in formattable(chosen) if p not in ignored(root, chosen)]
    plan = {"files": chosen, "formatters": [(lang, cmd[0] if cmd else None)
                                            for lang, cmd, _ in formatter_plan(chosen)],
            "estimated_cost": 0.0, "base": base}
    if decision is not None:
        plan["decision"] = decision.to_json()
    if not chosen:
        return Outcome(status="unchanged", base=base, errors=["no files a formatter handles"], extra=plan)
    if opts.dry_run:
        return Outcome(status="dry-run", base=base, extra=plan)
    collect_garbage(root)
    run_id = wtmod.new_id()
    with wtmod.run_lock(root, run_id), wtmod.scratch_worktree(root, run_id, base) as scratch:
        fmt = run_formatters(scratch.path, chosen)
        plan["ran"], plan["missing"] = fmt.ran, fmt.missing
        wtmod.fault_point("files-written")
        changed = scratch.changed_paths()
        outcome = Outcome(status="unchanged", run_id=run_id, base=base, errors=fmt.errors, extra=plan)
        if not fmt.ran:
            outcome.errors.append("no formatter installed for these files: " + ", ".join(fmt.missing))
            return outcome
        if not changed:
            return outcome
        report = check_in(scratch, changed, config, test_command="", lint_command="")
        request = opts.request or "format"
        trailers = {"Atlas-Request": request, "Atlas-Intent": "format", "Atlas-Tier": "none",
                    "Atlas-Model": "none", "Atlas-Cost": "0",
                    "Atlas-Checks": "passed" if report.ok else "failed"}
        name = branch_name(run_id, request)
        outcome.commit = commit_proposal(scratch, request=request, trailers=trailers, branch=name)
        outcome.branch, outcome.files, outcome.checks = name, changed, report
        outcome.status = "proposed" if report.ok else "checks-failed"
        outcome.attempts = 0
    return outcome
