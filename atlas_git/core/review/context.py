"""What the LLM reviewer sees: hunks widened to their enclosing function, chunked.

Each changed region is widened to the function (or class, or top-level block)
that encloses it: Python through ``ast``, other languages through an
indentation heuristic. Lines are shown with their new-side numbers and a
``+`` on added lines, removed lines as ``-`` without a number, so the model
can cite lines that exist, and we can check every line it cites. Secrets are
redacted in the rendered text before it is chunked (nothing leaves unredacted).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

from atlas_git.core import secrets
from atlas_git.core.pricing import estimate_tokens
from atlas_git.core.review.diff import FileDiff

MAX_FUNCTION_LINES = 150  # a bigger enclosing function is shown as a window instead
WINDOW = 6  # context lines either side when no enclosing block fits


@dataclass
class Section:
    """One file's rendered, redacted excerpt."""

    path: str
    text: str
    tokens: int
    redactions: int = 0


@dataclass
class Chunk:
    """Sections that fit in one call."""

    sections: list[Section] = field(default_factory=list)
    tokens: int = 0

    @property
    def paths(self) -> list[str]:
        return [s.path for s in self.sections]

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


def skipped(path: str, globs: Sequence[str]) -> bool:
    """True when ``path`` matches one of ``review.skip_globs`` (lockfiles, vendored...)."""
    name = path.rsplit("/", 1)[-1]
    for glob in globs:
        if glob.endswith("/**"):
            prefix = glob[:-3]
            if path.startswith(prefix + "/") or f"/{prefix}/" in f"/{path}":
                return True
        elif fnmatch.fnmatchcase(path, glob) or ("/" not in glob and fnmatch.fnmatchcase(name, glob)):
            return True
    return False


def _python_blocks(source: str) -> list[tuple[int, int]] | None:
    import ast  # local: only the LLM path widens hunks

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    blocks = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            blocks.append((start, node.end_lineno or node.lineno))
    return blocks


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _indent_block(lines: Sequence[str], no: int) -> tuple[int, int]:
    """The block around 1-based line ``no``: up to its top-level header, down to its end."""
    idx = no - 1
    level = _indent(lines[idx]) if lines[idx].strip() else 1 << 30
    start = idx
    while start > 0 and (level > 0 or not lines[start].strip()):
        start -= 1
        text = lines[start]
        if text.strip() and _indent(text) < level:
            level = _indent(text)
    header = _indent(lines[start])
    end = idx
    while end + 1 < len(lines):
        text = lines[end + 1]
        if text.strip() and _indent(text) <= header:
            if text.strip()[:1] in ")]}":  # the closing brace belongs to the block
                end += 1
            break
        end += 1
    return start + 1, end + 1


def widen(path: str, lines: Sequence[str], added: Sequence[int]) -> list[tuple[int, int]]:
    """Merged 1-based line ranges to show for ``added`` lines of ``path``."""
    if not lines:
        return []
    blocks: list[tuple[int, int]] | None = None
    if path.endswith((".py", ".pyi")):
        blocks = _python_blocks("\n".join(lines))
    ranges: list[tuple[int, int]] = []
    for no in added:
        if no < 1 or no > len(lines):
            continue
        if blocks is not None:
            inner = [b for b in blocks if b[0] <= no <= b[1]]
            rng = min(inner, key=lambda b: b[1] - b[0]) if inner else (no, no)
        else:
            rng = _indent_block(lines, no)
        if rng[1] - rng[0] + 1 > MAX_FUNCTION_LINES or rng == (no, no):
            rng = (max(1, no - WINDOW), min(len(lines), no + WINDOW))
        ranges.append(rng)
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def render(f: FileDiff, content: str | None) -> Section:
    """The redacted excerpt of ``f`` the model is shown."""
    if content is None:  # too large or unreadable: the hunks alone
        body = []
        for h in f.hunks:
            no = h.new_start
            for line in h.lines:
                if line.startswith("+"):
                    body.append(f"{no:>6}+ {line[1:]}")
                    no += 1
                elif line.startswith("-"):
                    body.append(f"{'':>6}- {line[1:]}")
        text = "\n".join(body)
    else:
        lines = content.split("\n")
        removed_at: dict[int, list[str]] = {}
        for h in f.hunks:
            at = h.new_start if h.new_count else h.new_start + 1
            removed_at.setdefault(at, []).extend(x[1:] for x in h.lines if x.startswith("-"))
        added = set(f.added)
        body = []
        for lo, hi in widen(f.path, lines, f.added):
            if body:
                body.append(f"{'':>6}  ...")
            for no in range(lo, hi + 1):
                body.extend(f"{'':>6}- {old}" for old in removed_at.get(no, ()))
                body.append(f"{no:>6}{'+' if no in added else ' '} {lines[no - 1]}")
        text = "\n".join(body)
    header = f"### {f.path}" + (f" (renamed from {f.old_path})" if f.old_path != f.path else "")
    redacted, found = secrets.redact(f"{header}\n{text}")
    return Section(f.path, redacted, estimate_tokens(redacted), len(found))


def chunk(sections: Sequence[Section], max_tokens: int) -> tuple[list[Chunk], list[str]]:
    """Pack sections into chunks of at most ``max_tokens``; oversize sections are cut."""
    chunks: list[Chunk] = []
    notes: list[str] = []
    current = Chunk()
    for section in sections:
        if section.tokens > max_tokens:
            keep = int(len(section.text) * max_tokens / section.tokens)
            cut = section.text[:keep].rsplit("\n", 1)[0]
            notes.append(f"{section.path}: excerpt cut to fit the model's context")
            section = Section(section.path, cut, estimate_tokens(cut), section.redactions)
        if current.sections and current.tokens + section.tokens > max_tokens:
            chunks.append(current)
            current = Chunk()
        current.sections.append(section)
        current.tokens += section.tokens
    if current.sections:
        chunks.append(current)
    return chunks, notes
