"""What a review produces: findings and a record of what ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES: tuple[str, ...] = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    """0 info, 1 warning, 2 error (unknown severities count as info)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass
class Finding:
    """One problem on an added or changed line (new side of the diff).

    ``source`` is ``builtin`` or ``llm``; ``suggestion`` is an optional patch
    (replacement text for ``line..end_line``).
    """

    path: str
    line: int
    end_line: int
    severity: str
    rule: str
    message: str
    source: str = "builtin"
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path, "line": self.line, "end_line": self.end_line,
            "severity": self.severity, "rule": self.rule, "message": self.message,
            "source": self.source,
        }
        if self.suggestion is not None:
            data["suggestion"] = self.suggestion
        return data

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, -severity_rank(self.severity), self.rule)


@dataclass
class ReviewResult:
    """Findings plus whether the built-in and LLM parts ran, and why not."""

    findings: list[Finding] = field(default_factory=list)
    ran_builtin: bool = True
    ran_llm: bool = False
    llm_failed: bool = False  # the LLM part was wanted but could not run
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    files: int = 0
    cost: float = 0.0
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in sorted(self.findings, key=Finding.sort_key)],
            "ran": {"builtin": self.ran_builtin, "llm": self.ran_llm, "reason": self.reason},
        }
