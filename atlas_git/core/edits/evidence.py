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

- *Function headings.* git writes the enclosing function after ``@@``. If, for
  one way of finding headings (git's default or its Python rule), every
  uniquely placed hunk's heading is right (at least one, none wrong), an
  ambiguous hunk goes where its heading names exactly one candidate.

Anything less is not evidence: the hunk stays ambiguous and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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
    headings: str | None = None  # the heading rule proved right (a key of HEADING_RULES)


# How git finds the function line shown after "@@": the default rule and the
# "python" diff driver's; the heading is the first group.
HEADING_RULES: dict[str, re.Pattern[str]] = {
    "default": re.compile(r"^([A-Za-z_$].*?)\s*$"),
    "python": re.compile(r"^[ \t]*((?:class|(?:async[ \t]+)?def)[ \t].*?)\s*$"),
}


def heading(lines: Sequence[str], start: int, rule: str) -> str | None:
    """The heading git would show for a hunk starting at ``start`` (0-based)."""
    pattern = HEADING_RULES[rule]
    for i in range(start - 1, -1, -1):
        m = pattern.match(lines[i])
        if m:
            return m.group(1)
    return None


def heading_matches(found: str | None, section: str) -> bool:
    """git cuts long headings; a long section may be a prefix of the real line."""
    if found is None:
        return False
    return found.strip() == section or (len(section) >= 60 and found.strip().startswith(section))


def gather(edits: list[FileEdit], read: Callable[[str], str | None]) -> Evidence:
    """Check the diff-sourced patch edits against the files as they are now."""
    patches = [e for e in edits if e.kind == "patch" and e.source == "diff"]
    edges = [edge_context(h.before, h.after) for e in patches for h in e.hunks if h.before]
    context = max((max(lead, trail) for lead, trail in edges), default=0)
    anchors_ok = context > 0
    regular = False  # a uniquely placed hunk with full context on both edges
    agree = disagree = 0
    rule_votes = {rule: [0, 0] for rule in HEADING_RULES}  # [right, wrong]
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
            if hunk.section:
                for rule, votes in rule_votes.items():
                    right = heading_matches(heading(index.lines, place.start, rule), hunk.section)
                    votes[0 if right else 1] += 1
    proven = next((rule for rule, (right, wrong) in rule_votes.items() if right and not wrong), None)
    return Evidence(context, anchors_ok and regular, agree >= 1 and disagree == 0, proven)
