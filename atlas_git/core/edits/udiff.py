"""Reading unified diffs as models write them: counts, numbers and prefixes optional."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atlas_git.core.edits.model import FileEdit, Hunk
from atlas_git.errors import AtlasError

_HUNK_NUMBERS = re.compile(r"^@@+ *-(\d+)(?:,(\d+))? +\+(\d+)(?:,(\d+))? *@@")
_GIT_HEADER = re.compile(r"^diff --git (\S+|\"[^\"]+\") (\S+|\"[^\"]+\")\s*$")
DEV_NULL = "/dev/null"
_NO_NEWLINE = "\\"  # "\ No newline at end of file" (worded differently by some tools)


def is_file_header(lines: list[str], i: int) -> bool:
    """A ``--- old`` line directly followed by ``+++ new``."""
    return (
        lines[i].startswith("--- ")
        and i + 1 < len(lines)
        and lines[i + 1].startswith("+++ ")
    )


def starts_diff(lines: list[str], i: int) -> bool:
    """Whether a unified diff (file header, git header or hunk header) begins at ``i``."""
    line = lines[i]
    return line.startswith(("diff --git ", "@@")) or is_file_header(lines, i)


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths."""
    if len(path) >= 2 and path[0] == path[-1] == '"':
        inner = path[1:-1]
        if not inner.isascii():
            return inner  # a model's quotes around a plain path
        # Octal escapes are UTF-8 bytes: decode escapes to bytes, then the bytes.
        return inner.encode("ascii").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return path


def _header_path(rest: str) -> str:
    """The path from a ``---``/``+++`` line, without a timestamp after a tab."""
    rest = rest.split("\t", 1)[0].rstrip()
    if not rest.startswith('"'):
        # "2024-01-01 10:00:00.000 +0000" timestamps follow after spaces in some tools.
        rest = re.sub(r"\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? ?[+-]\d{4}$", "", rest)
    return _unquote(rest.strip())


def strip_prefixes(old: str, new: str) -> tuple[str, str]:
    """Drop git's ``a/`` ``b/`` prefixes when both sides (or the one real side) carry them."""
    old_p = old.startswith("a/") or old == DEV_NULL
    new_p = new.startswith("b/") or new == DEV_NULL
    if old_p and new_p and not (old == new == DEV_NULL):
        old = old if old == DEV_NULL else old[2:]
        new = new if new == DEV_NULL else new[2:]
    return old, new


@dataclass
class _FileDiff:
    old: str | None = None
    new: str | None = None
    new_file: bool = False
    deleted: bool = False
    binary: bool = False
    rename_from: str | None = None
    rename_to: str | None = None
    hunks: list[Hunk] = field(default_factory=list)


def _boundary(lines: list[str], i: int) -> bool:
    """True where a hunk body must stop: the next hunk, file, fence or end."""
    if i >= len(lines):
        return True
    line = lines[i]
    return (
        line.startswith(("@@", "diff --git ", "```", "~~~", "Index: "))
        or is_file_header(lines, i)
    )


def _unprefixed_context(lines: list[str], i: int, fenced: bool) -> bool:
    """A context line whose leading space was lost (models drop it).

    Taken as such inside a fenced diff, or outside one when the hunk visibly
    goes on right after it; otherwise it is prose ending the hunk. A wrong
    guess only adds a context line that then fails to match.
    """
    if _boundary(lines, i) or not lines[i]:
        return False
    if fenced:
        return True
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return nxt[:1] in (" ", "+", "-") and not _boundary(lines, i + 1)


def _read_counted(lines: list[str], i: int, old_n: int, new_n: int, fenced: bool) -> int | None:
    """End index of a hunk body read by its header counts, or None if they don't fit."""
    old_seen = new_seen = 0
    while old_seen < old_n or new_seen < new_n:
        if i >= len(lines):
            return None
        line = lines[i]
        tag = line[:1]
        if tag == _NO_NEWLINE:
            i += 1
            continue
        if tag in (" ", "") and not _boundary(lines, i):
            old_seen += 1
            new_seen += 1
        elif tag == "-" and not is_file_header(lines, i):
            old_seen += 1
        elif tag == "+":
            new_seen += 1
        elif _unprefixed_context(lines, i, fenced):
            old_seen += 1
            new_seen += 1
        else:
            return None
        if old_seen > old_n or new_seen > new_n:
            return None
        i += 1
    while i < len(lines) and lines[i].startswith(_NO_NEWLINE):
        i += 1
    # The counts are trusted only if the body really ends there: what follows
    # (after blank lines) is the end, a boundary, or prose.
    j = i
    while j < len(lines) and lines[j] == "":
        j += 1
    if j < len(lines) and not _boundary(lines, j) and lines[j][:1] in (" ", "+", "-", _NO_NEWLINE):
        return None
    return i


def _read_by_prefix(lines: list[str], i: int, fenced: bool) -> int:
    """End index of a hunk body read line by line (counts missing or wrong).

    Empty lines are blank context lines whose leading space was stripped when
    more body, another hunk or the end of the diff follows; before prose they
    are just spacing.
    """
    end = i
    while i < len(lines) and not _boundary(lines, i):
        tag = lines[i][:1]
        if tag in (" ", "+", "-", _NO_NEWLINE) or _unprefixed_context(lines, i, fenced):
            i += 1
            end = i
        elif lines[i] == "":
            i += 1
        else:
            return end
    return i


def _build_hunk(body: list[str], header_line: int | None) -> Hunk:
    before: list[str] = []
    after: list[str] = []
    ops: list[str] = []
    old_lacks_nl = new_lacks_nl = False
    last_tag = ""
    for line in body:
        tag = line[:1]
        if tag == _NO_NEWLINE:
            if last_tag in (" ", ""):
                old_lacks_nl = new_lacks_nl = True
            elif last_tag == "-":
                old_lacks_nl = True
            elif last_tag == "+":
                new_lacks_nl = True
            continue
        if tag in ("-", "+"):
            (before if tag == "-" else after).append(line[1:])
            ops.append(tag)
        else:
            # " x", "" (stripped blank) or an unprefixed context line.
            text = line[1:] if tag == " " else line
            before.append(text)
            after.append(text)
            tag = " "
            ops.append(tag)
        last_tag = tag
    eof_newline: bool | None = None
    if old_lacks_nl or new_lacks_nl:
        eof_newline = not new_lacks_nl
    return Hunk(before, after, header_line, eof_newline=eof_newline, at_eof=old_lacks_nl,
                ops="".join(ops))


def _section(header: str, numbers: re.Match[str] | None) -> str:
    """The enclosing function git (or a model) wrote on the ``@@`` line, if any."""
    if numbers is not None:
        text = header[numbers.end() :]
    else:
        inner = header.strip("@ ").strip()
        text = "" if inner in ("", "...", "…") else inner
    return text.strip()


def read_hunks(lines: list[str], i: int, fenced: bool = False) -> tuple[list[Hunk], int]:
    """Read consecutive hunks starting at an ``@@`` line; return them and the next index."""
    hunks: list[Hunk] = []
    while i < len(lines) and lines[i].startswith("@@"):
        m = _HUNK_NUMBERS.match(lines[i])
        header_line: int | None = None
        end: int | None = None
        if m:
            header_line = int(m.group(1))
            old_n = int(m.group(2)) if m.group(2) is not None else 1
            new_n = int(m.group(4)) if m.group(4) is not None else 1
            end = _read_counted(lines, i + 1, old_n, new_n, fenced)
        if end is None:
            end = _read_by_prefix(lines, i + 1, fenced)
        hunk = _build_hunk(lines[i + 1 : end], header_line)
        hunk.section = _section(lines[i], m)
        if hunk.before or hunk.after:
            hunks.append(hunk)
        i = end
        # Blank lines between hunks are common in model output.
        j = i
        while j < len(lines) and lines[j].strip() == "":
            j += 1
        if j < len(lines) and lines[j].startswith("@@"):
            i = j
    return hunks, i


def read_diff(
    lines: list[str], i: int, default_path: str | None, fenced: bool = False
) -> tuple[list[FileEdit], int]:
    """Read one file's diff starting at ``i`` (git header, ``---`` header or bare ``@@``)."""
    fd = _FileDiff()
    m = _GIT_HEADER.match(lines[i])
    if lines[i].startswith("diff --git "):
        if m:
            fd.old, fd.new = strip_prefixes(_unquote(m.group(1)), _unquote(m.group(2)))
        i += 1
        while i < len(lines) and not lines[i].startswith(("--- ", "@@", "diff --git ")):
            line = lines[i]
            if line.startswith("new file mode"):
                fd.new_file = True
            elif line.startswith("deleted file mode"):
                fd.deleted = True
            elif line.startswith("rename from "):
                fd.rename_from = _unquote(line[len("rename from ") :])
            elif line.startswith("rename to "):
                fd.rename_to = _unquote(line[len("rename to ") :])
            elif line.startswith(("Binary files ", "GIT binary patch")):
                fd.binary = True
            elif not line.startswith(
                ("index ", "old mode", "new mode", "similarity", "dissimilarity", "copy ")
            ):
                break
            i += 1
    if i < len(lines) and is_file_header(lines, i):
        old = _header_path(lines[i][4:])
        new = _header_path(lines[i + 1][4:])
        fd.old, fd.new = strip_prefixes(old, new)
        i += 2
    if i < len(lines) and lines[i].startswith("@@"):
        fd.hunks, i = read_hunks(lines, i, fenced)
    return _to_edits(fd, default_path), i


def _to_edits(fd: _FileDiff, default_path: str | None) -> list[FileEdit]:
    old = fd.rename_from or fd.old
    new = fd.rename_to or fd.new
    if fd.binary:
        raise AtlasError(f"binary patch for {new or old or '?'} is not supported; send text edits")
    if old is None and new is None:
        if default_path is None:
            if not fd.hunks:
                return []
            raise AtlasError("a diff hunk names no file; add '--- a/PATH' and '+++ b/PATH' headers")
        old = new = default_path
    if new is None:
        new = old
    if old is None:
        old = new
    assert old is not None and new is not None
    if new == DEV_NULL or fd.deleted:
        return [FileEdit(old, "delete")]
    if old == DEV_NULL or fd.new_file:
        content = _new_file_content(fd.hunks)
        return [FileEdit(new, "create", [], content)]
    if not fd.hunks:
        return []  # a mode-only change: nothing to edit in the content
    if all(not h.before for h in fd.hunks) and len(fd.hunks) == 1 and fd.hunks[0].header_line == 0:
        # "@@ -0,0 +1,N @@" without a /dev/null header: still a new file.
        return [FileEdit(new, "create", [], _new_file_content(fd.hunks))]
    return [FileEdit(new, "patch", fd.hunks, old_path=old if old != new else None)]


def _new_file_content(hunks: list[Hunk]) -> str:
    lines = [line for h in hunks for line in h.after]
    if not lines:
        return ""
    newline = hunks[-1].eof_newline is not False
    return "\n".join(lines) + ("\n" if newline else "")
