"""Built-in checks: no model, no cost, always run, precise enough to block.

Severities (documented in the README):

=====================  ========  =============================================
rule                   severity  why
=====================  ========  =============================================
syntax/<language>      error     the change does not parse
conflict-marker        error     a complete ``<<<<<<<``/``=======``/``>>>>>>>`` block
secret/<kind>          error     a credential in an added line
secret-file            error     ``.env``, private keys, credentials files
                       warning   ``.npmrc``/``.pypirc`` (often registry settings only)
debugger               error     ``breakpoint()``, ``pdb.set_trace()``, ``debugger;``,
                                 ``binding.pry``, ``byebug``
                       warning   ``import pdb`` alone (post-mortem helpers use it)
large-file             error     a new file above ``review.max_added_file_bytes``
=====================  ========  =============================================

Every finding sits on an added line of the new side. A syntax error that a
parser reports on an unchanged line is moved to the nearest added line above
it, and only when the old version of the file parsed (pre-existing breakage
is not the change's fault). What counts as parsing (JSONC, templated YAML,
custom tags...) is :mod:`atlas_git.core.syntax`'s policy, shared with the
executor's checks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping, Sequence

from atlas_git.core import secrets, syntax
from atlas_git.core.review.diff import FileDiff
from atlas_git.core.review.findings import Finding

_ALLOW_SECRET = re.compile(r"pragma: allowlist secret|atlas: allow-secret", re.IGNORECASE)
_WARN_SECRET_FILES = frozenset({".npmrc", ".pypirc"})

_CONFLICT_START = re.compile(r"^<{7}(?: (.*))?$")
_CONFLICT_BASE = re.compile(r"^\|{7}(?: .*)?$")
_CONFLICT_SEP = re.compile(r"^={7}$")
_CONFLICT_END = re.compile(r"^>{7}(?: (.*))?$")
# The SEARCH/REPLACE edit format (which atlas itself documents) has the same shape.
_EDIT_FORMAT_LABELS = frozenset({"SEARCH", "REPLACE"})

# SQL statement completeness suits generated code (the executor checks it), but
# flags the many query files written without a trailing ';'.
_NOT_REVIEWED = frozenset({"sql"})

_PY_EXT = (".py", ".pyi")
_JS_EXT = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte")
_RB_EXT = (".rb", ".rake", ".erb")
_DEBUGGERS: tuple[tuple[tuple[str, ...], re.Pattern[str], str, str], ...] = (
    (_PY_EXT, re.compile(r"^\s*(?:breakpoint\(\s*\)|(?:i?pdb|pudb|ipdb)\.set_trace\(|"
                         r"import\s+(?:i?pdb|pudb)\s*;\s*(?:i?pdb|pudb)\.set_trace\()"),
     "error", "debugger breakpoint left in"),
    (_PY_EXT, re.compile(r"^\s*(?:import\s+(?:i?pdb|pudb)\s*(?:#.*)?$|from\s+(?:i?pdb|pudb)\s+import\b)"),
     "warning", "debugger import left in"),
    (_JS_EXT, re.compile(r"^\s*debugger\s*;?\s*(?://.*)?$"), "error", "`debugger` statement left in"),
    (_RB_EXT, re.compile(r"^\s*(?:binding\.(?:pry|irb)|byebug|debugger)\s*(?:#.*)?$"),
     "error", "debugger breakpoint left in"),
)


def _first_line(f: FileDiff) -> int | None:
    return f.added[0] if f.added else None


def check_conflict_markers(f: FileDiff) -> list[Finding]:
    """A complete conflict block (start, separator, end) among the added lines."""
    starts: list[int] = []
    seps: list[int] = []
    ends: list[int] = []
    for no in f.added:
        text = f.added_text[no].rstrip("\r")
        if not text or text[0] not in "<=>|":
            continue
        m = _CONFLICT_START.match(text)
        if m and (m.group(1) or "").strip() not in _EDIT_FORMAT_LABELS:
            starts.append(no)
        elif _CONFLICT_SEP.match(text) or _CONFLICT_BASE.match(text):
            seps.append(no)
        else:
            m = _CONFLICT_END.match(text)
            if m and (m.group(1) or "").strip() not in _EDIT_FORMAT_LABELS:
                ends.append(no)
    findings = []
    for start in starts:
        sep = next((s for s in seps if s > start), None)
        end = next((e for e in ends if sep is not None and e > sep), None)
        if sep is not None and end is not None:
            findings.append(Finding(f.path, start, end, "error", "conflict-marker",
                                    f"unresolved merge conflict (markers on lines {start}-{end})"))
    return findings


def check_secrets(f: FileDiff) -> list[Finding]:
    """Credentials in added lines; the finding's preview never shows the secret."""
    if not f.added:
        return []
    numbers = f.added
    text = "\n".join(f.added_text[n] for n in numbers)
    findings = []
    for m in secrets.scan_text(text):
        no = numbers[m.line - 1]
        if _ALLOW_SECRET.search(f.added_text[no]):
            continue
        end_idx = m.line - 1 + text.count("\n", m.start, m.end)
        findings.append(Finding(f.path, no, numbers[min(end_idx, len(numbers) - 1)], "error",
                                f"secret/{m.rule}",
                                f"possible {m.rule.replace('_', ' ')} in an added line: {m.preview}"))
    return findings


def check_secret_file(f: FileDiff) -> list[Finding]:
    """Files that hold credentials by convention (``.env``, keys, credentials)."""
    if f.deleted or f.is_submodule or not secrets.is_secret_path(f.path):
        return []
    line = _first_line(f) or (1 if f.binary and f.is_new else None)
    if line is None:
        return []
    name = f.path.rsplit("/", 1)[-1].lower()
    severity = "warning" if name in _WARN_SECRET_FILES else "error"
    return [Finding(f.path, line, line, severity, "secret-file",
                    f"{f.path} usually holds credentials: keep it out of git "
                    "(add it to .gitignore; commit a .env.example without values instead)")]


def check_debugger(f: FileDiff) -> list[Finding]:
    path = f.path.lower()
    rules = [(pat, sev, msg) for exts, pat, sev, msg in _DEBUGGERS if path.endswith(exts)]
    if not rules:
        return []
    findings = []
    for no in f.added:
        text = f.added_text[no]
        for pat, sev, msg in rules:
            if pat.search(text):
                findings.append(Finding(f.path, no, no, sev, "debugger", f"{msg}: {text.strip()[:80]}"))
                break
    return findings


def python_string_lines(source: bytes) -> set[int]:
    """Lines lying inside a multi-line Python string (after its first line)."""
    import io
    import tokenize

    string_types = {tokenize.STRING}
    fstring_middle = getattr(tokenize, "FSTRING_MIDDLE", None)  # Python 3.12+
    if fstring_middle is not None:
        string_types.add(fstring_middle)
    inside: set[int] = set()
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            if tok.type in string_types and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        return set()
    return inside


def drop_debuggers_in_strings(findings: list[Finding], contents: Mapping[str, bytes]) -> list[Finding]:
    """Debugger matches inside a Python string literal (test data, docs) are not leftovers."""
    suspects = {f.path for f in findings if f.rule == "debugger" and f.path.endswith(_PY_EXT)}
    if not suspects:
        return findings
    inside = {path: python_string_lines(contents[path]) for path in suspects if path in contents}
    return [f for f in findings
            if not (f.rule == "debugger" and f.line in inside.get(f.path, set()))]


def check_large_file(f: FileDiff, size: int | None, limit: int) -> list[Finding]:
    if not f.is_new or size is None or size <= limit or f.is_submodule:
        return []
    line = _first_line(f) or 1
    return [Finding(f.path, line, line, "error", "large-file",
                    f"adds a {_human(size)} file (limit {_human(limit)}, review.max_added_file_bytes); "
                    "use Git LFS or keep it out of the repository")]


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def line_checks(f: FileDiff) -> list[Finding]:
    """The checks that need only the diff (no file contents)."""
    if f.binary or f.is_submodule:
        return check_secret_file(f)
    return [*check_conflict_markers(f), *check_secrets(f), *check_secret_file(f),
            *check_debugger(f)]


def syntax_candidates(files: Sequence[FileDiff]) -> dict[str, str]:
    """``{path: language}`` of the changed files whose syntax is checked."""
    out: dict[str, str] = {}
    for f in files:
        if not f.has_content or f.binary or not f.added:
            continue
        first = f.added_text.get(1, "").encode("utf-8", "surrogateescape")
        lang = syntax.language(f.path, first)
        if lang is not None and lang not in _NOT_REVIEWED:
            out[f.path] = lang
    return out


def check_syntax(files: Sequence[FileDiff], contents: Mapping[str, bytes],
                 old_contents: Callable[[Sequence[FileDiff]], Mapping[str, bytes]]) -> list[Finding]:
    """Syntax errors caused by the change, placed on an added line.

    ``contents`` maps path -> new content; ``old_contents`` fetches old
    versions on demand (only for errors outside the added lines).
    """
    by_path = {f.path: f for f in files}
    langs = syntax_candidates(files)
    grouped: dict[str, dict[str, bytes]] = {}
    for path, lang in langs.items():
        if path in contents:
            grouped.setdefault(lang, {})[path] = contents[path]
    errors = syntax.check_all(grouped)
    outside = [by_path[p] for p, problem in errors.items() if problem.line not in by_path[p].added_text]
    pre_existing: set[str] = set()
    old_files = [f for f in outside if f.old_sha and not f.is_new]
    if old_files:
        olds = old_contents(old_files)
        old_grouped: dict[str, dict[str, bytes]] = {}
        for f in old_files:
            if f.path in olds:
                old_grouped.setdefault(langs[f.path], {})[f.path] = olds[f.path]
        pre_existing = set(syntax.check_all(old_grouped))
    findings = []
    for path, (line, column, message) in sorted(errors.items()):
        f = by_path[path]
        if path in pre_existing:
            continue
        if line in f.added_text:
            at = line
            message += f" (column {column})" if column else ""
        else:
            idx = bisect.bisect_right(f.added, line) - 1
            at = f.added[idx] if idx >= 0 else f.added[0]
            where = f"line {line}, column {column}" if column else f"line {line}"
            message = f"{message} (the parser stopped at {where})"
        findings.append(Finding(path, at, at, "error", f"syntax/{langs[path]}", message))
    return findings
