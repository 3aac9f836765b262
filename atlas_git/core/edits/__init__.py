"""The edit engine: parse model output into file edits and apply them by content.

Public API (used by the executor, ``fix`` and ``apply``):

- :func:`parse_edits` — unified diffs (sloppy or exact), SEARCH/REPLACE blocks and
  whole files, fenced or wrapped in prose → ``list[FileEdit]``.
- :func:`check_path` — refuse any path that leaves the repository.
- :func:`apply_edits` — locate hunks by content and compute the new file contents.
"""

from __future__ import annotations

from atlas_git.core.edits.apply import apply_edits
from atlas_git.core.edits.model import ApplyResult, FileEdit, Hunk
from atlas_git.core.edits.parse import parse_edits
from atlas_git.core.edits.paths import check_path

__all__ = ["ApplyResult", "FileEdit", "Hunk", "apply_edits", "check_path", "parse_edits"]
