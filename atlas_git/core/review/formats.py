"""Review output formats: text, json, sarif (2.1.0), github (workflow commands), rdjson.

Machine formats go to stdout (or ``--output``) and carry nothing else; the
text format groups findings by file and colours severities through
:mod:`atlas_git.ui` (``NO_COLOR`` honoured).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import quote

from atlas_git import __version__
from atlas_git.core.review.findings import Finding, ReviewResult, severity_rank

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github", "rdjson")
TOOL_NAME = "atlas-git"
TOOL_URL = "https://github.com/atlas-git/atlas-git"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_COLOR = {"error": "red", "warning": "yellow", "info": "blue"}


def _sorted(result: ReviewResult) -> list[Finding]:
    return sorted(result.findings, key=Finding.sort_key)


def _counts(findings: list[Finding]) -> str:
    parts = []
    for sev in ("error", "warning", "info"):
        n = sum(1 for f in findings if f.severity == sev)
        if n:
            parts.append(f"{n} {sev}{'s' if n != 1 else ''}")
    return ", ".join(parts) or "no findings"


def render_text(result: ReviewResult, stream: TextIO) -> str:
    """Findings grouped by file, one line each, then a one-line summary."""
    from atlas_git.ui import style

    findings = _sorted(result)
    lines: list[str] = []
    current = None
    for f in findings:
        if f.path != current:
            if current is not None:
                lines.append("")
            lines.append(style(f.path, "bold", stream))
            current = f.path
        where = f"{f.line}" if f.end_line == f.line else f"{f.line}-{f.end_line}"
        sev = style(f"{f.severity:<7}", _COLOR.get(f.severity, "dim"), stream)
        tag = "" if f.source == "builtin" else style(" (llm)", "dim", stream)
        lines.append(f"  {where:>7}  {sev}  {f.message}  {style('[' + f.rule + ']', 'dim', stream)}{tag}")
        if f.suggestion:
            for s in f.suggestion.splitlines()[:10]:
                lines.append(style(f"           | {s}", "green", stream))
    if findings:
        lines.append("")
    files = len({f.path for f in findings})
    scope = f" in {files} file{'s' if files != 1 else ''}" if findings else ""
    changed = f"{result.files} changed file{'s' if result.files != 1 else ''}"
    # When the LLM part failed, the command prints the one line saying why (stderr).
    llm = "" if result.llm_failed else "; " + (result.reason or "LLM review ran")
    summary = f"atlas review: {_counts(findings)}{scope} ({changed}{llm})"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def render_json(result: ReviewResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def fingerprint(f: Finding) -> str:
    """Stable across line shifts: rule, path and message, not the line number."""
    raw = f"{f.rule}\0{f.path}\0{' '.join(f.message.split())}"
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:32]


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(result: ReviewResult) -> str:
    """SARIF 2.1.0 for code scanning (validated against the official schema in tests)."""
    findings = _sorted(result)
    rule_ids = sorted({f.rule for f in findings})
    index = {rule: i for i, rule in enumerate(rule_ids)}
    worst: dict[str, str] = {}
    for f in findings:
        if severity_rank(f.severity) >= severity_rank(worst.get(f.rule, "info")):
            worst[f.rule] = f.severity
    rules = [{
        "id": rule,
        "name": rule.replace("/", "-"),
        "shortDescription": {"text": _rule_description(rule)},
        "defaultConfiguration": {"level": _SARIF_LEVEL.get(worst[rule], "warning")},
        "properties": {"source": "llm" if rule.startswith("llm/") else "builtin"},
    } for rule in rule_ids]
    results = []
    for f in findings:
        uri = quote(f.path.encode("utf-8", "surrogateescape"), safe="/")
        res: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line, "endLine": max(f.line, f.end_line)},
            }}],
            "partialFingerprints": {"atlasFindingHash/v1": fingerprint(f)},
            "properties": {"source": f.source},
        }
        if f.suggestion is not None:
            res["fixes"] = [{
                "description": {"text": "suggested change"},
                "artifactChanges": [{
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "replacements": [{
                        "deletedRegion": {"startLine": f.line, "endLine": max(f.line, f.end_line)},
                        "insertedContent": {"text": f.suggestion},
                    }],
                }],
            }]
        results.append(res)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": __version__,
                                "informationUri": TOOL_URL, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": True,
                             "properties": {"llm": result.ran_llm, "reason": result.reason}}],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule_description(rule: str) -> str:
    head = rule.split("/", 1)
    known = {
        "syntax": f"the changed file does not parse ({head[-1]})",
        "conflict-marker": "unresolved merge-conflict markers",
        "secret": f"a credential in an added line ({head[-1].replace('_', ' ')})",
        "secret-file": "a file that usually holds credentials",
        "debugger": "a debugger breakpoint left in",
        "large-file": "a very large added file",
        "llm": f"LLM review: {head[-1].replace('-', ' ')}",
    }
    return known.get(head[0], rule)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(result: ReviewResult) -> str:
    """GitHub Actions workflow commands, one annotation per finding."""
    out = []
    for f in _sorted(result):
        props = (f"file={_escape_property(f.path)},line={f.line},endLine={max(f.line, f.end_line)},"
                 f"title={_escape_property(f'atlas {f.rule}')}")
        message = f.message + (f"\n\nSuggested change:\n{f.suggestion}" if f.suggestion else "")
        out.append(f"::{_GITHUB_LEVEL.get(f.severity, 'warning')} {props}::{_escape_data(message)}")
    return "\n".join(out) + ("\n" if out else "")


_RD_SEVERITY = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def render_rdjson(result: ReviewResult) -> str:
    """reviewdog's rdjson (DiagnosticResult)."""
    diagnostics = []
    for f in _sorted(result):
        diag: dict[str, Any] = {
            "message": f.message,
            "location": {"path": f.path, "range": {"start": {"line": f.line, "column": 1},
                                                   "end": {"line": max(f.line, f.end_line)}}},
            "severity": _RD_SEVERITY.get(f.severity, "WARNING"),
            "source": {"name": f"{TOOL_NAME} ({f.source})"},
            "code": {"value": f.rule},
        }
        if f.suggestion is not None:
            # Replace whole lines line..end_line: the range ends at column 1 of the next line.
            text = f.suggestion if f.suggestion.endswith("\n") else f.suggestion + "\n"
            diag["suggestions"] = [{"range": {"start": {"line": f.line, "column": 1},
                                              "end": {"line": max(f.line, f.end_line) + 1, "column": 1}},
                                    "text": text}]
        diagnostics.append(diag)
    doc = {"source": {"name": TOOL_NAME, "url": TOOL_URL}, "diagnostics": diagnostics}
    if diagnostics:
        doc["severity"] = max((d["severity"] for d in diagnostics),
                              key=lambda s: ("INFO", "WARNING", "ERROR").index(s))
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(result: ReviewResult, fmt: str, stream: TextIO) -> str:
    """The result in ``fmt`` (one of :data:`FORMATS`)."""
    renderers: dict[str, Callable[[ReviewResult], str]] = {
        "json": render_json, "sarif": render_sarif, "github": render_github, "rdjson": render_rdjson,
    }
    if fmt == "text":
        return render_text(result, stream)
    return renderers[fmt](result)
