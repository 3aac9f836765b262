"""Applying parsed edits to file contents, hunk by hunk, located by content."""

from __future__ import annotations

from collections.abc import Callable

from atlas_git.core.edits.evidence import gather
from atlas_git.core.edits.model import ApplyResult, ApplyStatus, FileEdit
from atlas_git.core.edits.place import HunkOutcome, place_hunks
from atlas_git.core.edits.text import TextFile

ReadFile = Callable[[str], str | None]


class _Files:
    """Current contents of every path touched so far (None = missing)."""

    def __init__(self, read_file: ReadFile) -> None:
        self._read = read_file
        self.original: dict[str, str | None] = {}
        self.current: dict[str, str | None] = {}

    def get(self, path: str) -> str | None:
        if path not in self.current:
            content = self._read(path)
            self.original[path] = content
            self.current[path] = content
        return self.current[path]

    def set(self, path: str, content: str | None) -> None:
        self.get(path)
        self.current[path] = content

    def changed(self) -> dict[str, str | None]:
        return {p: c for p, c in self.current.items() if c != self.original[p]}


def apply_edits(edits: list[FileEdit], read_file: ReadFile) -> ApplyResult:
    """Apply ``edits`` in memory and report exactly what happened.

    ``read_file(path)`` returns a file's text, or None when it does not exist;
    paths must already be checked (:func:`check_path`). Hunks are located by
    content; an ambiguous or missing match fails that hunk with a one-line
    error naming the file and hunk, and hunks already present are counted, not
    applied twice. Nothing is written: ``files`` holds the new contents.
    """
    files = _Files(read_file)
    applied = failed = already = 0
    errors: list[str] = []
    hunk_numbers: dict[str, int] = {}
    evidence = gather(edits, files.get)

    for edit in edits:
        first = hunk_numbers.get(edit.path, 0) + 1
        hunk_numbers[edit.path] = first - 1 + max(1, len(edit.hunks))
        try:
            content = files.get(edit.old_path or edit.path)
        except UnicodeDecodeError:
            content = "\0"
        if content is not None and "\0" in content:
            failed += max(1, len(edit.hunks))
            errors.append(f"{edit.old_path or edit.path}: binary or undecodable file, not edited")
            continue

        if edit.kind == "delete":
            if content is None:
                already += 1
            else:
                files.set(edit.path, None)
                applied += 1
            continue

        if edit.kind in ("create", "replace_whole"):
            new = edit.new_content or ""
            if content is not None:
                new = TextFile.parse(content).restyle(new, keep_final_newline=edit.kind != "create")
            if content == new:
                already += 1
            elif edit.kind == "replace_whole" and content is not None and _snippet(content, new):
                failed += 1
                errors.append(
                    f"{edit.path}: the whole-file block has {_lines(new)} lines for a file of "
                    f"{_lines(content)}: it looks like a snippet; send a diff or SEARCH/REPLACE blocks"
                )
            elif content is not None and edit.kind == "create" and content.strip():
                failed += 1
                errors.append(f"{edit.path}: cannot create, the file already exists with other content")
            else:
                files.set(edit.path, new)
                applied += 1
            continue

        # A patch: hunks against the file's current content.
        if content is None:
            if all(h.append or not h.before for h in edit.hunks):
                content = ""  # appending to a missing file creates it
            else:
                failed += len(edit.hunks)
                errors.append(f"{edit.old_path or edit.path}: file not found, {len(edit.hunks)} "
                              "hunk(s) not applied")
                continue
        from_diff = edit.source == "diff"
        outcomes, new_text = place_hunks(
            content, edit.hunks, trust_order=from_diff, evidence=evidence if from_diff else None
        )
        for n, outcome in enumerate(outcomes, start=first):
            if outcome.status == "applied":
                applied += 1
            elif outcome.status == "already":
                already += 1
            else:
                failed += 1
                errors.append(_error(edit, n, outcome))
        if edit.old_path and edit.old_path != edit.path:
            if any(o.status == "applied" or o.status == "already" for o in outcomes) or not outcomes:
                files.set(edit.path, new_text)
                files.set(edit.old_path, None)
        elif new_text != content or files.get(edit.path) is None:
            files.set(edit.path, new_text)

    changed = files.changed()
    status: ApplyStatus
    if failed == 0:
        status = "applied"
    elif applied == 0:
        status = "refused"
        changed = {}
    else:
        status = "partial"
    return ApplyResult(changed, applied, failed, already, errors, status)


def _lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


def _snippet(old: str, new: str) -> bool:
    """A "whole file" that keeps under a third of a sizeable file is most likely an excerpt."""
    return _lines(old) >= 30 and 3 * _lines(new) < _lines(old)


def _error(edit: FileEdit, n: int, outcome: HunkOutcome) -> str:
    what = "block" if edit.source == "search_replace" else "hunk"
    where = f" (line {outcome.header_line})" if outcome.header_line else ""
    return f"{edit.old_path or edit.path}: {what} {n}{where} {outcome.reason}"
