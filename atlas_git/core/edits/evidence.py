"""What a whole diff proves about itself, used only to settle ambiguous hunks.

Two facts can be checked against the hunks that match in exactly one place:

- *Edge context.* A tool-made diff gives every hunk the same number of context
  lines at its edges, fewer only at the start or end of the file. If at least
  one uniquely placed hunk has that full context on both edges and every
  uniquely placed hunk obeys the rule, a hunk with short leading (trailing)
  context sits at the start (end) of its file.
- *Line numbers.* If every uniquely placed hunk's ``@@ -N`` is exactly where it
  matched (at least one, none off), the numbers are right, and an ambiguous
  hunk whose number names one of its candidates is placed there.

Anything less is not evidence: the hunk stays ambiguous and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atlas_git.core.edits.match import FileIndex, edge_context, locate
from atlas_git.core.edits.model import FileEdit
from atlas_git.core.edits.text import TextFile


@dataclass(frozen=True)
class Evidence:
    """Tie-breakers a diff has earned; the default earns none."""

    context: int = 0  # the diff's context size (lines at each hunk edge)
    anchors: bool = False  # short edge context proves start/end of file
    line_numbers: bool = False  # hunk header line numbers proved exact


def gather(edits: list[FileEdit], read: Callable[[str], str | None]) -> Evidence:
    """Check the diff-sourced patch edits against the files as they are now."""
    patches = [e for e in edits if e.kind == "patch" and e.source == "diff"]
    edges = [edge_context(h.before, h.after) for e in patches for h in e.hunks if h.before]
    context = max((max(lead, trail) for lead, trail in edges), default=0)
    anchors_ok = context > 0
    regular = False  # a uniquely placed hunk with full context on both edges
    agree = disagree = 0
    for edit in patches:
        try:
            content = read(edit.old_path or edit.path)
        except UnicodeDecodeError:
            continue
        if content is None or "\0" in content:
            continue
        tf = TextFile.parse(content)
        index = FileIndex(tf.bodies)
        last = len(edit.hunks) - 1
        for k, hunk in enumerate(edit.hunks):
            if not hunk.before:
                continue
            lead, trail = edge_context(hunk.before, hunk.after)
            # Only the first hunk of a file may start it, only the last may end it.
            if (lead < context and k != 0) or (trail < context and k != last):
                anchors_ok = False
            found = locate(index, hunk.before, hunk.after, hunk.at_eof, trim_context=False)
            if len(found) != 1:
                continue
            place = found[0]
            if (lead < context and place.start != 0) or (trail < context and place.end != len(tf.bodies)):
                anchors_ok = False
            regular = regular or (lead == trail == context)
            if hunk.header_line is not None:
                if place.start + 1 == hunk.header_line:
                    agree += 1
                else:
                    disagree += 1
    return Evidence(context, anchors_ok and regular, agree >= 1 and disagree == 0)
