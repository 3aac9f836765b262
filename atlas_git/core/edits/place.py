"""Placing all of one file's hunks, refusing ambiguity, and writing the result.

Every hunk of a diff is located against the same original text (as in a real
diff). A hunk that matches several places is settled only by what the diff has
proved about itself (see :mod:`evidence`: edge context, function headings,
line numbers) or when the diff's hunk order leaves exactly one possibility;
otherwise it is refused with the candidate line numbers. Hunks whose result is
already there are counted and skipped. Hunks not found in the original get one
more try, one by one, against the text with the others applied
(SEARCH/REPLACE blocks that build on each other).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from atlas_git.core.edits.evidence import Evidence, heading, heading_matches
from atlas_git.core.edits.match import (
    LEVELS,
    FileIndex,
    Placement,
    body,
    edge_context,
    find,
    locate,
    present,
)
from atlas_git.core.edits.model import Hunk
from atlas_git.core.edits.text import TextFile

_MAX_SHOWN = 6


@dataclass
class HunkOutcome:
    """What happened to one hunk; ``reason`` completes "FILE: hunk N ..." when it failed."""

    status: Literal["applied", "already", "failed"]
    reason: str = ""
    header_line: int | None = None
    retry: bool = False  # not found: worth a try against the partly edited text


def place_hunks(
    content: str, hunks: Sequence[Hunk], *, trust_order: bool, evidence: Evidence | None = None
) -> tuple[list[HunkOutcome], str]:
    """Apply ``hunks`` to ``content``; return one outcome per hunk and the new text.

    ``trust_order`` (diffs, not SEARCH/REPLACE) lets the hunk order settle
    ambiguity; ``evidence`` holds the other tie-breakers the diff has earned.
    """
    outcomes, text = _place_round(content, list(range(len(hunks))), hunks, trust_order,
                                  evidence or Evidence())
    for k, outcome in enumerate(outcomes):
        if outcome.status == "failed" and outcome.retry:
            again, new_text = _place_round(text, [k], hunks, False, Evidence())
            if again[k].status != "failed":
                outcomes[k] = again[k]
                text = new_text
    return outcomes, text


def _place_round(
    content: str, todo: list[int], hunks: Sequence[Hunk], trust_order: bool, evidence: Evidence
) -> tuple[list[HunkOutcome], str]:
    tf = TextFile.parse(content)
    index = FileIndex(tf.bodies)
    outcomes = [HunkOutcome("failed", "was not tried", h.header_line) for h in hunks]
    candidates: dict[int, list[Placement]] = {}
    for k in todo:
        hunk = hunks[k]
        outcome, found = _candidates(tf, index, hunk)
        outcomes[k] = outcome
        if found:
            candidates[k] = found
    for k, options in candidates.items():
        if len(options) > 1:
            picked = _tie_break(k, len(hunks), hunks[k], options, index, evidence)
            if picked is not None:
                candidates[k] = [picked]

    _exclude_overlaps(candidates)
    _pair_identical(candidates, hunks)
    ordered = trust_order and _order_holds(candidates, hunks)
    chosen, ambiguous = _resolve(candidates, ordered)
    for k, options in ambiguous.items():
        shown = ", ".join(str(p.start + 1) for p in options[:_MAX_SHOWN])
        more = "" if len(options) <= _MAX_SHOWN else f" and {len(options) - _MAX_SHOWN} more"
        outcomes[k] = HunkOutcome(
            "failed",
            f"is ambiguous: it matches {len(options)} places (lines {shown}{more}); "
            "include more surrounding lines to pick one",
            hunks[k].header_line,
        )
    chosen = _drop_overlaps(chosen, outcomes, hunks)
    for k in chosen:
        outcomes[k] = HunkOutcome("applied", header_line=hunks[k].header_line)
    return outcomes, _render(tf, chosen, hunks)


def _candidates(tf: TextFile, index: FileIndex, hunk: Hunk) -> tuple[HunkOutcome, list[Placement]]:
    """Placements for one hunk, or an outcome saying why there are none."""
    if not hunk.alternatives:
        return _candidates_of(tf, index, hunk)
    readings = [_candidates_of(tf, index, h) for h in (hunk, *hunk.alternatives)]
    matching = [r for r in readings if r[1] or r[0].status == "already"]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        return readings[0]
    return HunkOutcome(
        "failed",
        f"is unclear: it has {len(readings)} '=======' lines and {len(matching)} ways to "
        "read it match the file; mark the divider unambiguously",
        hunk.header_line,
    ), []


def _candidates_of(tf: TextFile, index: FileIndex, hunk: Hunk) -> tuple[HunkOutcome, list[Placement]]:
    n = len(tf.bodies)
    failed = HunkOutcome("failed", header_line=hunk.header_line)
    if not hunk.before:
        # Appending is already done only if the file already ends with the text.
        tail = n - len(hunk.after)
        if hunk.append and hunk.after and tail >= 0 and tail in find(index, hunk.after, "whitespace"):
            return HunkOutcome("already", header_line=hunk.header_line), []
        if hunk.append or n == 0:
            return failed, [Placement(n, (), tuple(hunk.after), "append", tuple(hunk.after))]
        failed.reason = "has no context or removed lines to locate it; include the surrounding lines"
        return failed, []
    found = locate(index, hunk.before, hunk.after, hunk.at_eof, trim_context=False)
    there = None if found else _already_there(index, hunk)
    if there:
        return HunkOutcome("already", header_line=hunk.header_line), []
    if not found and there is False:
        # Dropping edge context only when the result is nowhere to be seen:
        # otherwise a trimmed match could apply the change a second time.
        found = locate(index, hunk.before, hunk.after, hunk.at_eof, ops=hunk.ops)
    if not found:
        first = next((body(x).strip() for x in hunk.before if x.strip()), "")
        failed.reason = f"was not found: no lines match {first[:60]!r} and its context"
        if there is None:
            failed.reason += " (its new text is already in the file: applied before?)"
        failed.retry = True
        return failed, []
    fresh = [p for p in found if not _applied_at(index, p)]
    if not fresh:
        return HunkOutcome("already", header_line=hunk.header_line), []
    if len(fresh) < len(found):
        # Some places already show the result: applying elsewhere would be a guess.
        failed.reason = "may already be applied: its result is already in the file next to its context"
        return failed, []
    return failed, found


def _tie_break(
    k: int, count: int, hunk: Hunk, options: list[Placement], index: FileIndex, evidence: Evidence
) -> Placement | None:
    """The one candidate the diff's proven signals name; None if none does or they disagree."""
    n_lines = len(index.lines)
    lead, trail = edge_context(hunk.before, hunk.after)
    votes: list[list[Placement]] = []
    if evidence.headings and hunk.section:
        rule = evidence.headings
        votes.append([p for p in options
                      if heading_matches(heading(index.lines, p.start - p.dropped[0], rule), hunk.section)])
    if evidence.anchors and lead < evidence.context and k == 0:
        votes.append([p for p in options if p.dropped[0] == 0 and p.start == 0])
    if evidence.anchors and trail < evidence.context and k == count - 1:
        votes.append([p for p in options if p.dropped[1] == 0 and p.end == n_lines])
    if hunk.header_line is not None:
        named = [p for p in options if p.start + 1 == hunk.header_line + p.dropped[0]]
        if evidence.line_numbers:
            votes.append(named)
        elif len(named) == 1 and named[0].dropped == (0, 0) and (
            (k == 0 and lead < trail and named[0].start == 0)
            or (k == count - 1 and trail < lead and named[0].end == n_lines)
        ):
            # Two independent signals agreeing: the number names a candidate at
            # the file's start (end), and the context is short on that side only.
            votes.append(named)
    if any(not vote for vote in votes):
        return None  # a proven signal rules out every candidate: something is off
    picks = {vote[0].start for vote in votes if len(vote) == 1}
    if len(picks) != 1:
        return None  # nothing decisive, or proven signals disagree
    start = picks.pop()
    return next(p for p in options if p.start == start)


def _already_there(index: FileIndex, hunk: Hunk) -> bool | None:
    """``before`` is absent: is ``after`` present, with enough to tie it to this hunk?

    True: already applied. None: ``after`` is there but proves too little (a
    line or two that could be anywhere). False: not there.
    """
    if not hunk.after or hunk.after == hunk.before:
        return False
    found = present(index, hunk.after)
    if not found:
        return False
    lead, trail = edge_context(hunk.before, hunk.after)
    nonblank = sum(1 for line in hunk.after if line.strip())
    added = [line for line in hunk.after if line not in hunk.before and line.strip()]
    if lead + trail == 0:
        # Only new lines (SEARCH/REPLACE, -U0): they must be one distinctive block.
        return True if len(found) == 1 and nonblank >= 2 else None
    if not added and nonblank < 2:
        return None  # a deletion whose remaining context is too thin to be evidence
    return True


def _applied_at(index: FileIndex, p: Placement) -> bool:
    """Whether a pure-insertion placement already has its result around it."""
    extra = len(p.after) - len(p.before)
    if extra <= 0 or not p.after:
        return False
    for start in (p.start, p.start - extra):
        level = p.level if p.level in LEVELS else "whitespace"
        if start >= 0 and start in find(index, p.after, level):
            return True
    return False


def _order_holds(candidates: dict[int, list[Placement]], hunks: Sequence[Hunk]) -> bool:
    """Whether the hunks' order in the diff can be trusted as their order in the file.

    Models sometimes list hunks in "logical" order (the function first, its
    import after), and then the order would place an ambiguous hunk wrongly.
    It is trusted only when every hunk carries a line number and the numbers
    (right or not) ascend, and the uniquely placed hunks agree.
    """
    placed = [c[0].start for _, c in sorted(candidates.items()) if len(c) == 1]
    numbers = [h.header_line for k, h in enumerate(hunks) if k in candidates]
    known = [n for n in numbers if n is not None]
    return placed == sorted(placed) and len(known) == len(numbers) and known == sorted(known)


def _exclude_overlaps(candidates: dict[int, list[Placement]]) -> None:
    """Drop candidates that overlap a uniquely placed hunk, until nothing changes.

    Hunks of one diff never overlap, whatever order they are listed in, so a
    candidate on top of another hunk's only possible place is not this hunk's.
    """
    changed = True
    while changed:
        changed = False
        fixed = [(k, c[0]) for k, c in candidates.items() if len(c) == 1]
        for k, options in candidates.items():
            if len(options) < 2:
                continue
            free = [p for p in options
                    if not any(j != k and p.start < q.end and q.start < p.end for j, q in fixed)]
            if free and len(free) < len(options):
                candidates[k] = free
                changed = True


def _pair_identical(candidates: dict[int, list[Placement]], hunks: Sequence[Hunk]) -> None:
    """m identical hunks matching the same m places: every assignment gives the same file."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for k, options in candidates.items():
        if len(options) > 1:
            key = (tuple(hunks[k].before), tuple(hunks[k].after), tuple(p.start for p in options))
            groups.setdefault(key, []).append(k)
    for members in groups.values():
        options = candidates[members[0]]
        if len(members) == len(options) and all(candidates[k] == options for k in members):
            for k, place in zip(sorted(members), sorted(options, key=lambda p: p.start), strict=True):
                candidates[k] = [place]


def _resolve(
    candidates: dict[int, list[Placement]], ordered: bool
) -> tuple[dict[int, Placement], dict[int, list[Placement]]]:
    """Unique placements, plus those the hunk order forces; the rest stay ambiguous."""
    chosen = {k: c[0] for k, c in candidates.items() if len(c) == 1}
    ambiguous = {k: c for k, c in candidates.items() if len(c) > 1}
    if not ambiguous or not ordered:
        return chosen, ambiguous
    keys = sorted(candidates)
    # fwd[i][j]: ways to place hunks keys[:i+1] in order ending with option j (capped).
    fwd: list[list[int]] = []
    for i, k in enumerate(keys):
        row = []
        for p in candidates[k]:
            if i == 0:
                row.append(1)
            else:
                prev = candidates[keys[i - 1]]
                row.append(min(2, sum(c for q, c in zip(prev, fwd[i - 1], strict=True) if q.end <= p.start)))
        fwd.append(row)
    bwd: list[list[int]] = [[] for _ in keys]
    for i in range(len(keys) - 1, -1, -1):
        row = []
        for p in candidates[keys[i]]:
            if i == len(keys) - 1:
                row.append(1)
            else:
                nxt = candidates[keys[i + 1]]
                row.append(min(2, sum(c for q, c in zip(nxt, bwd[i + 1], strict=True) if p.end <= q.start)))
        bwd[i] = row
    if not any(fwd[-1]):
        return chosen, ambiguous  # the hunks are out of order: the order proves nothing
    chosen, ambiguous = {}, {}
    for i, k in enumerate(keys):
        feasible = [p for p, f, b in zip(candidates[k], fwd[i], bwd[i], strict=True) if f and b]
        if len(feasible) == 1:
            chosen[k] = feasible[0]
        else:
            ambiguous[k] = feasible
    return chosen, ambiguous


def _drop_overlaps(
    chosen: dict[int, Placement], outcomes: list[HunkOutcome], hunks: Sequence[Hunk]
) -> dict[int, Placement]:
    kept: dict[int, Placement] = {}
    last: tuple[int, Placement] | None = None
    for k, p in sorted(chosen.items(), key=lambda kv: (kv[1].start, kv[1].end, kv[0])):
        if last is not None and p.start < last[1].end:
            outcomes[k] = HunkOutcome(
                "failed", f"overlaps hunk {last[0] + 1} (both change line {p.start + 1})",
                hunks[k].header_line,
            )
            continue
        kept[k] = p
        last = (k, p)
    return kept


def _render(tf: TextFile, chosen: dict[int, Placement], hunks: Sequence[Hunk]) -> str:
    """The file with every chosen placement replaced, line terminators preserved."""
    if not chosen:
        return tf.render()
    nl = tf.newline
    bodies: list[str] = []
    eols: list[str] = []
    pos = 0
    final_newline = tf.final_newline
    for k, p in sorted(chosen.items(), key=lambda kv: (kv[1].start, kv[0])):
        bodies.extend(tf.bodies[pos : p.start])
        eols.extend(tf.eols[pos : p.start])
        hunk = hunks[k]
        cr_aware = any(line.endswith("\r") for line in (*hunk.before, *hunk.after))
        before = [body(x) for x in p.before]
        raw_after = [body(x) for x in p.raw_after]
        ops = difflib.SequenceMatcher(None, before, raw_after, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                bodies.extend(tf.bodies[p.start + i1 : p.start + i2])
                eols.extend(tf.eols[p.start + i1 : p.start + i2])
            elif tag in ("replace", "insert"):
                for line in p.after[j1:j2]:
                    if line.endswith("\r"):
                        bodies.append(line[:-1])
                        eols.append("\r\n")
                    else:
                        bodies.append(line)
                        eols.append("\n" if cr_aware else nl)
        pos = p.end
        if p.end == len(tf.bodies) and hunk.eof_newline is not None:
            final_newline = hunk.eof_newline
    bodies.extend(tf.bodies[pos:])
    eols.extend(tf.eols[pos:])
    for i in range(len(eols) - 1):
        if not eols[i]:
            eols[i] = nl
    if eols:
        if not final_newline:
            eols[-1] = ""
        elif not eols[-1]:
            eols[-1] = nl
    return "".join(b + e for b, e in zip(bodies, eols, strict=True))
