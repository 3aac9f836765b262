"""How the request's context moves the tier: named files and the staged diff.

Sizes come from the filesystem (``stat``, never reading contents) so routing
stays fast on big files. The rules are deliberately few:

* the tier's context window (``tiers.<t>.context_tokens``) must hold the
  estimated prompt, else the tier moves up until it does;
* four or more named files is multi-file work: at least platinum;
* a large staged diff (when the request is about it) moves up one step, a
  very large one to at least platinum.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from atlas_git.core.router.decision import TIERS, tier_index

if TYPE_CHECKING:
    from collections.abc import Sequence

    from atlas_git.config import Config

BYTES_PER_TOKEN = 3.5  # matches pricing.estimate_tokens
MULTI_FILE = 4
STAGED_LARGE = 400  # changed lines
STAGED_HUGE = 1500
_ABOUT_STAGED = re.compile(r"\b(staged|diff|my changes|this change|the changes|commit|pr|"
                           r"pull request|patch)\b", re.IGNORECASE)


@dataclass
class FileContext:
    """What the named files add to the prompt."""

    count: int = 0  # named paths, existing or not
    total_bytes: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return int(self.total_bytes / BYTES_PER_TOKEN)


def measure_files(files: Sequence[str], repo: Path | None) -> FileContext:
    """Count and size the named files (relative to the cwd, then the repo)."""
    ctx = FileContext()
    for name in files:
        if not name or "\0" in name:
            ctx.missing.append(repr(name))
            continue
        path = Path(name)
        candidates = [path] if path.is_absolute() else [Path.cwd() / path]
        if repo is not None and not path.is_absolute():
            candidates.append(repo / path)
        # A file that does not exist yet still counts (a generate request names
        # the files it will create); only its size is unknown.
        ctx.count += 1
        size = _size(candidates)
        if size is None:
            ctx.missing.append(name)
            continue
        ctx.total_bytes += size
    return ctx


def _size(candidates: list[Path]) -> int | None:
    for path in candidates:
        try:
            if path.is_file():
                return path.stat().st_size
            if path.is_dir():
                return sum(_dir_sizes(path))
        except (OSError, ValueError):
            continue
    return None


def _dir_sizes(root: Path, limit: int = 2000) -> list[int]:
    """File sizes under ``root`` (bounded, skipping dot-dirs like .git)."""
    sizes: list[int] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "node_modules"]
        for fname in filenames:
            try:
                sizes.append(os.stat(os.path.join(dirpath, fname)).st_size)
            except OSError:
                continue
            if len(sizes) >= limit:
                return sizes
    return sizes


def staged_matters(request: str, intent: str) -> bool:
    """The staged diff is context only for reviews or requests that mention it."""
    return intent == "review" or bool(_ABOUT_STAGED.search(request[:2000]))


def adjust_tier(tier: str, *, config: Config, intent: str, request_tokens: int,
                files: FileContext, staged_lines: int, staged_relevant: bool) -> tuple[str, list[str]]:
    """Move ``tier`` up for the context; returns the new tier and why."""
    notes: list[str] = []
    index = tier_index(tier)
    if files.count >= MULTI_FILE and index < 2:
        notes.append(f"{files.count} files named: multi-file work, {TIERS[index]} -> platinum")
        index = 2
    staged_tokens = 0
    if staged_relevant and staged_lines > 0:
        staged_tokens = staged_lines * 12  # ~40 chars per diff line
        if staged_lines >= STAGED_HUGE and index < 2:
            notes.append(f"staged diff of {staged_lines} lines: {TIERS[index]} -> platinum")
            index = 2
        elif staged_lines >= STAGED_LARGE and index < len(TIERS) - 1:
            notes.append(f"staged diff of {staged_lines} lines: {TIERS[index]} -> {TIERS[index + 1]}")
            index += 1
    prompt = request_tokens + files.tokens + staged_tokens
    while index < len(TIERS) - 1:
        window = int(config.get(f"tiers.{TIERS[index]}.context_tokens", 0) or 0)
        if not window or prompt <= window:
            break
        notes.append(f"~{prompt} prompt tokens exceed {TIERS[index]}'s {window}-token budget: "
                     f"-> {TIERS[index + 1]}")
        index += 1
    min_tier = str(config.get(f"intents.{intent}.min_tier", "silver"))
    if min_tier in TIERS and index < tier_index(min_tier):
        notes.append(f"{intent} needs at least {min_tier} (intents.{intent}.min_tier)")
        index = tier_index(min_tier)
    return TIERS[index], notes


def prompt_tokens(request_tokens: int, files: FileContext, staged_lines: int,
                  staged_relevant: bool) -> int:
    """Estimated prompt size for costing: request + files + relevant diff + overhead."""
    staged = staged_lines * 12 if staged_relevant else 0
    return request_tokens + files.tokens + staged + 400  # system prompt and framing
