"""The last matching level: blank lines in the context don't have to agree.

Models often drop or add an empty line in a hunk's context. Here the hunk's
blank context lines are ignored and the file's blank lines are skipped while
matching; every non-blank line must still match, in one run. The replacement
keeps the file's blank lines; where an added line could go either side of a
blank line, or a blank line sits inside removed lines, the hunk is not placed
(a guess could put code in the wrong spot).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from atlas_git.core.edits.match import FileIndex, Placement, body

_CTX, _DEL, _ADD = "ctx", "del", "add"
_GAP = "gap"  # a blank context line of the hunk: matches a file blank line or nothing


def _ops(before: Sequence[str], after: Sequence[str], tags: str = "") -> list[tuple[str, str]]:
    """The hunk as (kind, line) items in diff order (the diff's own, when known)."""
    items: list[tuple[str, str]] = []
    if tags and len(tags) == len(before) + len(after) - tags.count(" "):
        b, a = iter(before), iter(after)
        for tag in tags:
            if tag == " ":
                items.append((_CTX, next(b)))
                next(a)
            elif tag == "-":
                items.append((_DEL, next(b)))
            else:
                items.append((_ADD, next(a)))
        return items
    matcher = difflib.SequenceMatcher(None, [body(x) for x in before], [body(x) for x in after],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            items += [(_CTX, x) for x in before[i1:i2]]
        else:
            items += [(_DEL, x) for x in before[i1:i2]]
            items += [(_ADD, x) for x in after[j1:j2]]
    return items


def locate_ignoring_blanks(
    index: FileIndex, before: Sequence[str], after: Sequence[str], tags: str = ""
) -> tuple[list[Placement], bool]:
    """Placements when only blank lines stand between the hunk and the file.

    The flag says whether the non-blank lines matched anywhere at all: then the
    hunk's context is right and only blank lines differ, so no other level
    (dropping context) may place it instead.
    """
    items = _ops(before, after, tags)
    # Blank lines removed or added on purpose are not this level's job to
    # place, but they still tell whether the context is all there.
    buildable = not any(kind != _CTX and not body(x).strip() for kind, x in items)
    items = [(_GAP, x) if kind == _CTX and not body(x).strip() else (kind, x) for kind, x in items]
    wanted = [body(x).rstrip() for kind, x in items if kind in (_CTX, _DEL)]
    if len(wanted) < 2:
        return [], False
    rows = [i for i, line in enumerate(index.lines) if line.strip()]
    keys = [index.lines[i].rstrip() for i in rows]
    places = []
    matched = False
    for start in range(len(keys) - len(wanted) + 1):
        if keys[start : start + len(wanted)] == wanted:
            matched = True
            built = _build(index, rows[start : start + len(wanted)], items) if buildable else None
            if built is not None:
                places.append(built)
    return places, matched


def _build(index: FileIndex, matched: list[int], items: list[tuple[str, str]]) -> Placement | None:
    """The placement over file lines ``matched[0]..matched[-1]``, or None if it needs a guess.

    Added lines right after removed ones replace them in place; other added
    lines go between their neighbours. A file blank line is kept where it is,
    unless added lines could go on either side of it or it sits inside a run
    of removed lines.
    """
    first, last = matched[0], matched[-1]
    new: list[str] = []
    item = 0
    prev = _CTX
    rows = iter(matched)
    next_row = next(rows)
    for pos in range(first, last + 1):
        if pos != next_row:
            upcoming = items[item][0]
            if upcoming == _GAP:
                item += 1  # the hunk's blank line is this one
            elif upcoming == _ADD or (prev == _DEL and upcoming == _DEL):
                return None
            new.append(index.lines[pos])
            continue
        while items[item][0] in (_ADD, _GAP):
            if items[item][0] == _ADD:
                new.append(items[item][1])
            item += 1
        prev = items[item][0]
        item += 1
        if prev == _CTX:
            new.append(index.lines[pos])
        else:
            # A replacement: its added lines take the removed line's place.
            while item < len(items) and items[item][0] == _ADD:
                new.append(items[item][1])
                item += 1
        next_row = next(rows, -1)
    new.extend(line for kind, line in items[item:] if kind == _ADD)
    return Placement(first, tuple(index.lines[first : last + 1]), tuple(new), "blank-lines", tuple(new))
