"""Data types shared by the parser and the applier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EditKind = Literal["patch", "create", "delete", "replace_whole"]
ApplyStatus = Literal["applied", "partial", "refused"]


@dataclass
class Hunk:
    """One change located by content.

    ``before`` holds the context and removed lines, ``after`` the context and
    added lines, each without line terminators (a line from a diff of a CRLF
    file may keep its trailing ``\\r``). ``header_line`` is the old-side start
    line the model claimed, kept for messages only: it is never trusted to
    place the hunk.
    """

    before: list[str]
    after: list[str]
    header_line: int | None = None
    # Whether the file should end with a newline once this hunk is applied at
    # the end of the file (from "\ No newline at end of file" markers); None
    # keeps the file's current state.
    eof_newline: bool | None = None
    # The diff marked the old side as ending the file, so the hunk must match
    # at the end of the file.
    at_eof: bool = False
    # An empty ``before`` appends at the end of the file (SEARCH/REPLACE with an
    # empty SEARCH); a diff hunk without context has no such meaning.
    append: bool = False
    # The enclosing function named on the "@@" line (git's funcname), a hint
    # used like line numbers: only once the diff has proved such hints right.
    section: str = ""
    # The diff's own line order as tags, one per hunk line: " " context,
    # "-" removed, "+" added ("" when unknown, e.g. SEARCH/REPLACE).
    ops: str = ""
    # Other readings of the same SEARCH/REPLACE block when its content holds
    # '=======' lines too; exactly one reading may match the file.
    alternatives: list[Hunk] = field(default_factory=list)


@dataclass
class FileEdit:
    """All the changes the model asked for on one path.

    ``kind`` is ``patch`` (hunks), ``create`` (a new file: ``new_content``),
    ``delete``, or ``replace_whole`` (the whole file given: ``new_content``).
    """

    path: str
    kind: EditKind
    hunks: list[Hunk] = field(default_factory=list)
    new_content: str | None = None
    # A rename (diff "rename from"/"--- a/old +++ b/new"): hunks apply to the
    # old path's content, which moves to ``path``.
    old_path: str | None = None
    # Where the edit came from: "diff", "search_replace" or "whole" (messages,
    # and whether hunk order in the text can be trusted).
    source: str = "diff"


@dataclass
class ApplyResult:
    """The outcome of :func:`atlas_git.core.edits.apply_edits`.

    ``files`` maps each changed path to its new content (``None`` = delete).
    ``status`` is ``applied`` only when every hunk applied or was already
    present; ``refused`` when nothing could be applied.
    """

    files: dict[str, str | None]
    hunks_applied: int
    hunks_failed: int
    already_applied: int
    errors: list[str]
    status: ApplyStatus
