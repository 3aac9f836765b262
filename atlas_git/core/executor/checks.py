"""Checks a proposed change must pass: syntax of changed files, then lint and tests.

Syntax follows the one policy of :mod:`atlas_git.core.syntax` (Python, JSON and
JSONC, YAML, TOML, SQL in-process; JavaScript and shell through ``node`` and
``bash -n`` when installed). Lint and tests run through the sandbox.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atlas_git.core import syntax
from atlas_git.core.executor.sandbox import SandboxResult, run_sandboxed


@dataclass
class CheckFailure:
    """One failed check, phrased so a model can act on it."""

    check: str  # "syntax", "lint", "test"
    path: str | None
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line:  # path:line:col, the form editors and models read
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"[{self.check}] {where + ': ' if where else ''}{self.message}"


@dataclass
class CheckReport:
    """All checks of one attempt."""

    ran: list[str] = field(default_factory=list)
    failures: list[CheckFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def feedback(self, limit: int = 6000) -> str:
        """The failures as text for the next prompt, capped."""
        text = "\n\n".join(str(f) for f in self.failures)
        return text if len(text) <= limit else text[: limit // 2] + "\n...\n" + text[-limit // 2 :]


def check_syntax(worktree: Path, paths: Sequence[str], report: CheckReport) -> None:
    """Syntax-check each existing changed file; failures are added to ``report``.

    What parses is :mod:`atlas_git.core.syntax`'s policy (shared with review).
    On top of it, a changed file the checks read must be UTF-8: generated
    code in another encoding is a failure here, not a skipped file.
    """
    grouped: dict[str, dict[str, bytes]] = {}
    for rel in paths:
        file = worktree / rel
        if not file.is_file():
            continue  # deleted
        data = file.read_bytes()
        lang = syntax.language(rel, data.split(b"\n", 1)[0])
        if lang is None:
            continue
        missing = syntax.tool_missing(lang)
        if missing:
            report.notes.append(f"{missing} not installed: {rel} not syntax-checked")
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            report.failures.append(CheckFailure("syntax", rel, "not valid UTF-8"))
            continue
        report.ran.append(f"syntax:{rel}")
        grouped.setdefault(lang, {})[rel] = data
    errors = syntax.check_all(grouped)
    for rel in paths:  # the caller's order
        if rel in errors:
            problem = errors[rel]
            report.failures.append(CheckFailure("syntax", rel, problem.message, problem.line,
                                                problem.column))


def run_command_check(kind: str, command: str, worktree: Path, report: CheckReport, *,
                      timeout: float, memory_mb: int, output_bytes: int) -> SandboxResult:
    """Run a configured lint/test command in the worktree through the sandbox."""
    report.ran.append(f"{kind}:{command}")
    result = run_sandboxed(command, cwd=worktree, timeout=timeout, memory_mb=memory_mb,
                           output_bytes=output_bytes, extra_env=import_path_env(worktree))
    note = "network not isolated: unprivileged `unshare -rn` is unavailable here"
    if not result.network_isolated and note not in report.notes:
        report.notes.append(note)
    if not result.ok:
        tail = result.output.strip()[-4000:]
        report.failures.append(CheckFailure(kind, None, f"`{command}` exited {result.returncode}:\n{tail}"))
    return result


def import_path_env(worktree: Path) -> dict[str, str]:
    """Make Python import the proposal's code, not an editable install of the user's tree."""
    import os

    paths = [str(worktree)]
    if (worktree / "src").is_dir():
        paths.insert(0, str(worktree / "src"))
    existing = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([*paths, *([existing] if existing else [])])}


def run_checks(worktree: Path, changed: Sequence[str], *, test_command: str = "",
               lint_command: str = "", timeout: float = 120.0, memory_mb: int = 2048,
               output_bytes: int = 200_000) -> CheckReport:
    """Syntax first (cheap); lint and tests only when the syntax is sound."""
    report = CheckReport()
    check_syntax(worktree, changed, report)
    if report.failures:
        return report
    for kind, command in (("lint", lint_command), ("test", test_command)):
        if command:
            run_command_check(kind, command, worktree, report, timeout=timeout, memory_mb=memory_mb,
                              output_bytes=output_bytes)
    return report


def python_executable() -> str:
    """The interpreter running atlas (tests use it for ``python -m pytest``)."""
    return sys.executable
