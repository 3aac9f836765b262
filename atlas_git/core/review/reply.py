"""The LLM reviewer's reply: its JSON schema, validation against the diff, merging.

A finding survives only if it is well-formed and sits on an added line of a file
under review: a PR comment on any other line is rejected (422) and a hook must not
report what the change did not touch. Everything dropped is counted in a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from atlas_git.adapters.jsonreply import extract_json
from atlas_git.core.review.diff import FileDiff
from atlas_git.core.review.findings import SEVERITIES, Finding

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "line": {"type": "integer"},
                    "end_line": {"type": ["integer", "null"]},
                    "severity": {"type": "string", "enum": list(SEVERITIES)},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                    "suggestion": {"type": ["string", "null"]},
                },
                "required": ["path", "line", "end_line", "severity", "rule", "message", "suggestion"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["findings"],
    "additionalProperties": False,
}


def validate_reply(content: str, files: Mapping[str, FileDiff]) -> tuple[list[Finding], list[str]]:
    """Findings from a reply, keeping only well-formed ones on added lines."""
    data = extract_json(content)
    if data is None:
        return [], ["a reply was not valid JSON: dropped"]
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], ["a reply did not match the schema (no findings list): dropped"]
    findings: list[Finding] = []
    malformed = outside = 0
    for item in items:
        if not isinstance(item, dict):
            malformed += 1
            continue
        path, line, message = item.get("path"), item.get("line"), item.get("message")
        if (not isinstance(path, str) or not isinstance(message, str) or not message.strip()
                or not isinstance(line, int) or isinstance(line, bool)):
            malformed += 1
            continue
        f = files.get(path.removeprefix("./"))
        if f is None or line not in f.added_text:
            outside += 1
            continue
        end = item.get("end_line")
        end_line = end if isinstance(end, int) and not isinstance(end, bool) and end in f.added_text \
            and end >= line else line
        severity = item.get("severity") if item.get("severity") in SEVERITIES else "warning"
        rule = item.get("rule") if isinstance(item.get("rule"), str) and item.get("rule") else "review"
        suggestion = item.get("suggestion") if isinstance(item.get("suggestion"), str) else None
        rule_id = "llm/" + _slug(str(rule).removeprefix("llm/"))
        findings.append(Finding(f.path, line, end_line, str(severity), rule_id,
                                " ".join(message.split())[:1000], "llm", suggestion))
    notes = []
    if outside:
        notes.append(f"dropped {outside} LLM finding(s) on lines outside the diff")
    if malformed:
        notes.append(f"dropped {malformed} malformed LLM finding(s)")
    return findings, notes


def _slug(rule: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", rule.lower()).strip("-")[:40] or "review"


def merge_duplicates(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per (path, line, rule) or per (path, line, same message)."""
    seen: set[tuple[str, int, str]] = set()
    out: list[Finding] = []
    for f in findings:
        norm = re.sub(r"\W+", " ", f.message.lower()).strip()[:80]
        keys = {(f.path, f.line, "rule:" + f.rule), (f.path, f.line, "msg:" + norm)}
        if f.rule == "llm/review":
            keys.discard((f.path, f.line, "rule:" + f.rule))
        if keys & seen:
            continue
        seen |= keys
        out.append(f)
    return out
