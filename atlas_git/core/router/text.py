"""Request clean-up before classification: bytes, control characters, size,
and instructions aimed at the router itself (prompt injection)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atlas_git.errors import UsageError

# Classify on the head and tail of huge requests: the ask is usually at the
# start, the error at the end of a pasted log.
MAX_CLASSIFY_CHARS = 4000
_HEAD = 3000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LABELS = r"(silver|gold|platinum|diamond|generate|edit|review|debug|optimi[sz]e|format|explain)"
# Text that addresses the classifier instead of describing a coding task.
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|prompts?|rules|guidelines|above|"
    r"system)\b|"
    r"\b(classify|label|route|categori[sz]e|mark|treat|tag)\b.{0,25}\b(as|to|into)\b\W{0,3}" + _LABELS
    + r"\b|\b(tier|intent|label|category|confidence)\s*(is|=|:|should be|must be)\s*\W{0,3}"
    + _LABELS + r"\b|\byou are (now|an?)\b|\bsystem prompt\b|\bnew instructions\b|"
    r"\b(respond|reply|answer|output) (only )?with\b.{0,30}" + _LABELS,
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[^.;:!?\n,]+[.;:!?\n,]*")


@dataclass
class CleanRequest:
    """The text the classifiers see, and what was done to get it."""

    text: str
    original_chars: int
    notes: list[str] = field(default_factory=list)
    injection: bool = False


def to_text(request: str | bytes) -> str:
    """Decode bytes / argv surrogates to valid UTF-8 text without raising."""
    if isinstance(request, bytes):
        return request.decode("utf-8", "replace")
    try:
        return request.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return request.encode("utf-8", "replace").decode("utf-8", "replace")


def clean(request: str | bytes) -> CleanRequest:
    """Normalise ``request`` for classification; UsageError when it is empty."""
    text = to_text(request)
    notes: list[str] = []
    if "\ufffd" in text:
        notes.append("request had bytes that are not UTF-8: replaced")
    if "\x00" in text:
        notes.append("request had NUL bytes: replaced with spaces")
    text = _CONTROL.sub(" ", text)
    if not text.strip():
        raise UsageError("the request is empty", hint='say what you want done, e.g. '
                         'git atlas route "fix the crash in parse()"')
    original = len(text)
    text = text.strip()
    if len(text) > MAX_CLASSIFY_CHARS:
        tail = MAX_CLASSIFY_CHARS - _HEAD
        text = text[:_HEAD] + "\n...\n" + text[-tail:]
        notes.append(f"request is {original} characters: classified on the first {_HEAD} "
                     f"and last {tail}")
    injection = False
    if _INJECTION.search(text):
        kept = [c for c in _CLAUSES.findall(text) if not _INJECTION.search(c)]
        stripped = "".join(kept).strip(" ,;.\n")
        injection = True
        notes.append("ignored text addressed to the router (e.g. 'classify as ...'): "
                     "the request is data, not instructions")
        text = stripped
    return CleanRequest(text=text, original_chars=original, notes=notes, injection=injection)
