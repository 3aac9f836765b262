"""Find the edits in a model's reply: diffs, SEARCH/REPLACE blocks and whole files.

The prompt asks for one format; this accepts all of them, fenced or not, with
prose around them. Anything malformed enough that applying the rest would hide
a lost edit raises :class:`AtlasError`, so the model can be told.
"""

from __future__ import annotations

import re

from atlas_git.core.edits.model import FileEdit, Hunk
from atlas_git.core.edits.udiff import read_diff, starts_diff
from atlas_git.errors import AtlasError

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*(.*)$")
_SEARCH = re.compile(r"^ *<{5,9} ?SEARCH\b.*$")
_DIVIDER = re.compile(r"^ *={5,9}\s*$")
_REPLACE = re.compile(r"^ *>{5,9} ?REPLACE\b.*$")
_PATH = re.compile(r"^(?:[\w.\-+@~=,]+/)*[\w.\-+@~=,]+$")
_BARE_NAMES = frozenset(
    {"Makefile", "Dockerfile", "Containerfile", "Justfile", "Procfile", "Gemfile", "Rakefile",
     "LICENSE", "README", "CODEOWNERS", "Vagrantfile", "Jenkinsfile"}
)
_PATH_DECOR = re.compile(
    r"^(?:#+\s*|[-*]\s+|(?:(?:new|updated|modified|changed)\s+)?(?:file(?:name)?|path)\s*:\s*)",
    re.IGNORECASE,
)
# Whole-file blocks that elide code would delete it silently.
_ELISION = re.compile(
    r"(\.\.\.|…)\s*(existing|rest of|remaining|unchanged|other)\b"
    r"|\b(rest of (the )?(file|code|function|class)|existing code)\b.*(unchanged|here|\.\.\.)",
    re.IGNORECASE,
)


def parse_edits(text: str) -> list[FileEdit]:
    """Parse a model reply into file edits.

    Accepts unified diffs (with or without correct line numbers and counts,
    ``a/``/``b/`` prefixes, ``diff --git`` headers, ``/dev/null`` for new or
    deleted files, bare ``@@`` hunk headers), aider-style SEARCH/REPLACE blocks
    (an empty SEARCH appends, or creates a missing file), and whole files (a
    path line then a fenced block, or the path in the fence's info string) —
    inside markdown fences or surrounded by prose. Raises :class:`AtlasError`
    when nothing usable is found or a block is malformed.
    """
    lines = _split(text)
    edits: list[FileEdit] = []
    last_path: str | None = None
    fence: tuple[str, int] | None = None  # (char, length) of the open structured fence
    fence_path: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if starts_diff(lines, i):
            found, i = read_diff(lines, i, fence_path or last_path, fenced=fence is not None)
            edits.extend(found)
            if found and found[-1].kind == "patch":
                # A later header-less hunk continues this file.
                last_path = found[-1].path
                fence_path = None if fence_path is None else last_path
            continue
        if _SEARCH.match(line):
            path = fence_path or last_path
            if path is None:
                raise AtlasError("a SEARCH/REPLACE block names no file; put the path on the line before it")
            hunk, i = _read_search_replace(lines, i, path)
            edits.append(FileEdit(path, "patch", [hunk], source="search_replace"))
            continue
        m = _FENCE.match(line)
        if m:
            char, length, info = m.group(1)[0], len(m.group(1)), m.group(2).strip()
            if fence is not None and char == fence[0] and len(m.group(1)) >= fence[1] and not info:
                fence = None
                fence_path = None
                i += 1
                continue
            close = _find_close(lines, i + 1, char, length)
            body = lines[i + 1 : close]
            info_path = _info_path(info)
            if _is_structured(body):
                fence = (char, length)
                fence_path = info_path or last_path
                i += 1
                continue
            path = info_path or _adjacent_path(lines, i)
            if path is not None and close < len(lines):
                edits.append(_whole_file(path, body))
                last_path = None
            i = close + 1
            continue
        # The latest path line names the file for the SEARCH/REPLACE blocks and
        # header-less hunks that follow (a wrong guess fails to match, it never
        # edits the wrong place).
        candidate = path_of(line)
        if candidate is not None:
            last_path = candidate
        i += 1
    if not edits:
        raise AtlasError(
            "no edits found in the input: expected a unified diff, SEARCH/REPLACE blocks "
            "or a path line followed by a fenced whole file"
        )
    return edits


def _split(text: str) -> list[str]:
    """Lines without terminators; a reply pasted with CRLF everywhere is treated as LF."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Pasted through Windows, nearly every line ends in CR. A diff of a CRLF
    # file also has CRs, but not on its header lines; when it is mostly CRs
    # anyway, dropping them changes nothing: new lines follow the file's style.
    crlf = sum(1 for line in lines if line.endswith("\r"))
    if lines and crlf >= 0.9 * sum(1 for line in lines if line.strip()):
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _find_close(lines: list[str], i: int, char: str, length: int) -> int:
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m and m.group(1)[0] == char and len(m.group(1)) >= length and not m.group(2).strip():
            return i
        i += 1
    return len(lines)


def _is_structured(body: list[str]) -> bool:
    """A fenced body holding a diff or SEARCH/REPLACE blocks (scanned line by line)."""
    return any(_SEARCH.match(line) for line in body) or any(
        starts_diff(body, j) for j in range(len(body))
    )


def path_of(line: str) -> str | None:
    """The file path a line names on its own (``src/x.py``, ``**`src/x.py`**:``...), or None."""
    s = line.strip()
    if not s or len(s) > 300:
        return None
    # Markdown around a path: "### `src/x.py`", "**File: src/x.py**", "- src/x.py:".
    for _ in range(2):
        s = _PATH_DECOR.sub("", s.strip("*_ ")).strip()
        s = s[:-1].strip() if s.endswith(":") else s
        s = s.strip("*_`'\" ").strip()
    if s.startswith("./"):
        s = s[2:]
    if not _PATH.match(s) or s.replace(".", "").isdigit():
        return None
    last = s.rsplit("/", 1)[-1]
    has_ext = "." in last.strip(".") and not last.endswith(".")
    if "/" in s or has_ext or last in _BARE_NAMES:
        if s.lower() in ("e.g", "i.e", "etc"):
            return None
        return s
    return None


def _info_path(info: str) -> str | None:
    """A path in a fence info string: ```python src/x.py or ```src/x.py."""
    for word in info.split()[:2]:
        word = word.split(":", 1)[-1] if word.lower().startswith(("path:", "file:")) else word
        p = path_of(word)
        if p is not None and ("/" in p or "." in p):
            return p
    return None


def _adjacent_path(lines: list[str], fence_at: int) -> str | None:
    """The path on the line before a fence (one blank line allowed between)."""
    j = fence_at - 1
    if j >= 0 and not lines[j].strip():
        j -= 1
    return path_of(lines[j]) if j >= 0 else None


def _whole_file(path: str, body: list[str]) -> FileEdit:
    for line in body:
        if _ELISION.search(line) and len(line.strip()) < 80:
            raise AtlasError(
                f"whole-file block for {path} elides code ({line.strip()!r}); "
                "send the complete file or a diff"
            )
    content = "\n".join(body) + "\n" if body else ""
    return FileEdit(path, "replace_whole", [], content, source="whole")


def _read_search_replace(lines: list[str], i: int, path: str) -> tuple[Hunk, int]:
    """One block from its SEARCH marker; every '=======' line is a possible divider.

    Content can hold such lines itself (reStructuredText underlines), so each
    extra one yields an alternative reading; the applier accepts the block only
    if exactly one reading matches the file.
    """
    j = i + 1
    while j < len(lines) and not _REPLACE.match(lines[j]):
        if _SEARCH.match(lines[j]):
            break
        j += 1
    if j >= len(lines) or not _REPLACE.match(lines[j]):
        raise AtlasError(f"SEARCH/REPLACE block for {path} has no '>>>>>>> REPLACE' end")
    block = lines[i + 1 : j]
    splits = [k for k, line in enumerate(block) if _DIVIDER.match(line)]
    if not splits:
        raise AtlasError(f"SEARCH/REPLACE block for {path} has no '=======' divider")
    readings = [_sr_hunk(block[:k], block[k + 1 :]) for k in splits]
    hunk = readings[0]
    hunk.alternatives = readings[1:]
    return hunk, j + 1


def _sr_hunk(search: list[str], replace: list[str]) -> Hunk:
    empty_search = not any(s.strip() for s in search)
    return Hunk([] if empty_search else search, replace, None, append=empty_search)
