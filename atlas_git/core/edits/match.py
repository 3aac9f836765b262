"""Locating a hunk's ``before`` lines in a file by content, never by line number.

Levels, loosest last: exact; trailing whitespace ignored; whitespace-tolerant
with a consistent indentation shift (tabs vs spaces, or the whole block
indented differently: ``after`` is re-indented the same way). When nothing
matches with the full context: blank lines may disagree (:mod:`blanks`); and
if the context is not all there, blank edge lines and then edge context lines
are dropped, always keeping the changed lines and an anchor for insertions.
A level returns every place it matches; choosing among several is the
caller's job (and may mean refusing).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_TABSIZES = (8, 4, 2)


@dataclass(frozen=True)
class Placement:
    """Where a hunk (possibly with edge context dropped) matches in the file."""

    start: int  # index of the first matched file line
    before: tuple[str, ...]  # the hunk lines that matched (edge context maybe dropped)
    after: tuple[str, ...]  # their replacement, re-indented if the level required it
    level: str
    raw_after: tuple[str, ...] = ()  # the replacement as the hunk wrote it
    dropped: tuple[int, int] = (0, 0)  # edge context lines left out (leading, trailing)

    @property
    def end(self) -> int:
        return self.start + len(self.before)


def body(line: str) -> str:
    """A hunk or file line without a carriage return left over from CRLF."""
    return line[:-1] if line.endswith("\r") else line


def _collapse(line: str) -> str:
    return " ".join(line.split())


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _width(indent: str, tabsize: int) -> int:
    return len(indent.expandtabs(tabsize))


class FileIndex:
    """Per-level keys of a file's lines and where each key occurs."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = [body(line) for line in lines]
        self.keys: dict[str, list[str]] = {
            "exact": self.lines,
            "whitespace": [line.rstrip() for line in self.lines],
            "indent": [_collapse(line) for line in self.lines],
        }
        self._where: dict[str, dict[str, list[int]]] = {}

    def positions(self, level: str, first_key: str) -> list[int]:
        where = self._where.get(level)
        if where is None:
            where = {}
            for i, key in enumerate(self.keys[level]):
                where.setdefault(key, []).append(i)
            self._where[level] = where
        return where.get(first_key, [])


_KEYFUNCS: dict[str, Callable[[str], str]] = {
    "exact": lambda s: s,
    "whitespace": str.rstrip,
    "indent": _collapse,
}
LEVELS = ("exact", "whitespace", "indent")


def find(index: FileIndex, lines: Sequence[str], level: str, at_eof: bool = False) -> list[int]:
    """Start positions where ``lines`` (non-empty) match the file at ``level``."""
    keyf = _KEYFUNCS[level]
    want = [keyf(body(line)) for line in lines]
    keys = index.keys[level]
    n = len(want)
    hits = []
    for pos in index.positions(level, want[0]):
        if pos + n > len(keys) or (at_eof and pos + n != len(keys)):
            continue
        if keys[pos : pos + n] == want and (
            level != "indent" or _shift(index.lines[pos : pos + n], lines) is not None
        ):
            hits.append(pos)
    return hits


def _shift(file_lines: Sequence[str], hunk_lines: Sequence[str]) -> tuple[int, int] | None:
    """(tabsize, column shift) that maps the hunk's indentation onto the file's, if one does."""
    pairs = [
        (_indent(f), _indent(body(h)))
        for f, h in zip(file_lines, hunk_lines, strict=True)
        if f.strip()
    ]
    for tabsize in _TABSIZES:
        shifts = {_width(fi, tabsize) - _width(hi, tabsize) for fi, hi in pairs}
        if len(shifts) <= 1:
            return tabsize, (shifts.pop() if shifts else 0)
    return None


def reindent(file_lines: Sequence[str], before: Sequence[str], after: Sequence[str]) -> list[str] | None:
    """``after`` with its indentation moved the way ``before`` differs from the file.

    When the whole block carries one extra (or one missing) indentation prefix,
    that exact prefix is removed (or added), keeping each line's own tabs and
    spaces. Otherwise lines whose indentation appears in ``before`` take the
    file's indentation for it, and the rest are shifted by the same number of
    columns, written with tabs if the file indents with tabs. None if a line
    would go below column 0.
    """
    found = _shift(file_lines, before)
    if found is None:
        return None
    tabsize, delta = found
    mapping: dict[str, str] = {}
    uses_tabs = False
    pairs = []
    for f, h in zip(file_lines, before, strict=True):
        if f.strip():
            mapping.setdefault(_indent(body(h)), _indent(f))
            uses_tabs = uses_tabs or _indent(f).startswith("\t")
            pairs.append((_indent(f), _indent(body(h))))
    extra = _common_prefix_shift(pairs)
    out = []
    for line in after:
        text = body(line)
        cr = line[len(text) :]
        if not text.strip():
            out.append(line)
            continue
        ind = _indent(text)
        if extra is not None and extra[0] and ind.startswith(extra[1]):
            new = ind[len(extra[1]) :]
        elif extra is not None and not extra[0]:
            new = extra[1] + ind
        elif ind in mapping:
            new = mapping[ind]
        else:
            width = _width(ind, tabsize) + delta
            if width < 0:
                return None
            new = "\t" * (width // tabsize) + " " * (width % tabsize) if uses_tabs else " " * width
        out.append(new + text[len(ind) :] + cr)
    return out


def _common_prefix_shift(pairs: Sequence[tuple[str, str]]) -> tuple[bool, str] | None:
    """(True, P) if every hunk indent is P + the file's, (False, P) if the reverse."""
    for hunk_longer in (True, False):
        prefix: str | None = None
        for f, h in pairs:
            long, short = (h, f) if hunk_longer else (f, h)
            if not long.endswith(short):
                prefix = None
                break
            p = long[: len(long) - len(short)]
            if prefix is None:
                prefix = p
            elif p != prefix:
                prefix = None
                break
        if prefix:
            return hunk_longer, prefix
    return None


def edge_context(before: Sequence[str], after: Sequence[str]) -> tuple[int, int]:
    """How many context lines the hunk has before its first and after its last change."""
    lead = 0
    limit = min(len(before), len(after))
    while lead < limit and before[lead] == after[lead]:
        lead += 1
    trail = 0
    while trail < limit - lead and before[-1 - trail] == after[-1 - trail]:
        trail += 1
    return lead, trail


def _edge_variants(before: Sequence[str], after: Sequence[str], ops: str = "") -> list[tuple[int, int]]:
    """(lead, trail) counts of edge context lines to drop, blank-only trims first.

    Where the change begins (ends) with an insertion, the context kept on that
    side must still hold a non-blank line right there to anchor it: otherwise
    which side of an unknown or blank line the new lines belong is a guess.
    Changes that begin (end) with removed lines are anchored by those.
    """
    lead, trail = edge_context(before, after)
    changes = ops.strip(" ")
    if changes:
        # The diff's own order: an edge block of "+" lines alone is an insertion.
        blocks = changes.split(" ")
        inserts_first, inserts_last = "-" not in blocks[0], "-" not in blocks[-1]
    else:
        opcodes = [op for op in difflib.SequenceMatcher(None, list(before), list(after), autojunk=False)
                   .get_opcodes() if op[0] != "equal"]
        if not opcodes:
            return []
        inserts_first, inserts_last = opcodes[0][0] == "insert", opcodes[-1][0] == "insert"

    def anchored(dl: int, dt: int) -> bool:
        kept_lead = before[dl:lead]
        kept_trail = before[len(before) - trail : len(before) - dt]
        return (not inserts_first or any(x.strip() for x in kept_lead)) and (
            not inserts_last or any(x.strip() for x in kept_trail))

    variants: list[tuple[int, int]] = []
    blank_lead = 0
    while blank_lead < lead and not before[blank_lead].strip():
        blank_lead += 1
    blank_trail = 0
    while blank_trail < trail and not before[-1 - blank_trail].strip():
        blank_trail += 1
    if (blank_lead or blank_trail) and anchored(blank_lead, blank_trail):
        variants.append((blank_lead, blank_trail))
    pure_insert = len(before) == lead + trail
    for total in range(1, lead + trail + 1):
        for dl in range(min(total, lead) + 1):
            dt = total - dl
            if dt > trail or (dl, dt) in variants or not anchored(dl, dt):
                continue
            kept = before[dl : len(before) - dt]
            nonblank = sum(1 for line in kept if line.strip())
            if nonblank < (2 if pure_insert else 1):
                continue
            variants.append((dl, dt))
    return variants


def locate(
    index: FileIndex, before: Sequence[str], after: Sequence[str], at_eof: bool = False,
    *, trim_context: bool = True, ops: str = "",
) -> list[Placement]:
    """Every placement of the hunk at the first (strictest) level that matches anywhere."""
    found = _locate_at(index, before, after, at_eof, (0, 0))
    if found or not trim_context:
        return found
    from atlas_git.core.edits.blanks import locate_ignoring_blanks

    found, context_matched = locate_ignoring_blanks(index, before, after, ops)
    if found or context_matched:
        # The context is all there, blank lines aside: dropping some of it
        # would only move the change to a guessed side of a blank line.
        return found
    for dl, dt in _edge_variants(before, after, ops):
        b = before[dl : len(before) - dt]
        a = after[dl : len(after) - dt]
        found = _locate_at(index, b, a, at_eof and dt == 0, (dl, dt))
        if found:
            return found
    return []


def _locate_at(
    index: FileIndex, before: Sequence[str], after: Sequence[str], at_eof: bool,
    dropped: tuple[int, int],
) -> list[Placement]:
    if not before:
        return []
    for level in LEVELS:
        hits = find(index, before, level, at_eof)
        if not hits:
            continue
        placements = []
        for pos in hits:
            new_after: Sequence[str] = after
            if level == "indent":
                moved = reindent(index.lines[pos : pos + len(before)], before, after)
                if moved is None:
                    continue
                new_after = moved
            placements.append(
                Placement(pos, tuple(before), tuple(new_after), level, tuple(after), dropped)
            )
        if placements:
            return placements
    return []


def present(index: FileIndex, lines: Sequence[str]) -> list[int]:
    """Where ``lines`` already appear (for already-applied checks), strictest level first."""
    if not lines:
        return []
    for level in LEVELS:
        hits = find(index, lines, level)
        if hits:
            return hits
    return []
