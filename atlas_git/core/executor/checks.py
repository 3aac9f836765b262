"""Checks a proposed change must pass: syntax of changed files, then lint and tests.

Syntax checks run in-process where Python can parse the language itself
(Python, JSON, TOML, YAML, SQL) and through the sandbox for external tools
(``node --check``, ``bash -n``), each only when the tool is available.
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atlas_git.core.executor.sandbox import SandboxResult, run_sandboxed


@dataclass
class CheckFailure:
    """One failed check, phrased so a model can act on it."""

    check: str  # "syntax", "lint", "test"
    path: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"[{self.check}] {where}{self.message}"


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


def _check_python(text: str, path: str) -> str | None:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. null bytes
        return str(exc)
    return None


def _check_json(text: str, path: str) -> str | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


def _check_toml(text: str, path: str) -> str | None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return str(exc)
    return None


def _check_yaml(text: str, path: str) -> str | None:
    import yaml  # local: only when a YAML file changed

    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        return " ".join(str(exc).split())
    return None


def _check_sql(text: str, path: str) -> str | None:
    import sqlite3

    # Only statement completeness: a real schema may reference tables we lack,
    # so executing would report false errors.
    stripped = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    if stripped.strip() and not sqlite3.complete_statement(stripped):
        return "incomplete SQL statement (missing ';' or unbalanced quotes)"
    return None


_IN_PROCESS = {
    ".py": _check_python, ".pyi": _check_python, ".json": _check_json, ".toml": _check_toml,
    ".yaml": _check_yaml, ".yml": _check_yaml, ".sql": _check_sql,
}
_EXTERNAL: dict[str, list[str]] = {
    ".js": ["node", "--check"], ".mjs": ["node", "--check"], ".cjs": ["node", "--check"],
    ".sh": ["bash", "-n"], ".bash": ["bash", "-n"],
}


def check_syntax(worktree: Path, paths: Sequence[str], report: CheckReport) -> None:
    """Syntax-check each existing changed file; failures are added to ``report``."""
    for rel in paths:
        file = worktree / rel
        if not file.is_file():
            continue  # deleted
        suffix = file.suffix.lower()
        if suffix in _IN_PROCESS:
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                report.failures.append(CheckFailure("syntax", rel, "not valid UTF-8"))
                continue
            report.ran.append(f"syntax:{rel}")
            problem = _IN_PROCESS[suffix](text, rel)
            if problem:
                report.failures.append(CheckFailure("syntax", rel, problem))
        elif suffix in _EXTERNAL:
            tool = _EXTERNAL[suffix]
            if not shutil.which(tool[0]):
                report.notes.append(f"{tool[0]} not installed: {rel} not syntax-checked")
                continue
            report.ran.append(f"syntax:{rel}")
            result = run_sandboxed([*tool, rel], cwd=worktree, timeout=30)
            if not result.ok:
                report.failures.append(CheckFailure("syntax", rel, result.output.strip()[-2000:]))


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
