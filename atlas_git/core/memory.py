"""``.atlas/memory.jsonl``: a bounded history of requests, decisions and outcomes.

Later requests read :func:`recent` as context ("last time a request like this
went to gold and its tests failed"). Only metadata is kept (intent, tier,
model, outcome, a short request text); anything shaped like an API key is
masked. The file is trimmed to ``memory.max_entries`` lines; a file lock keeps
concurrent appends and trims from losing lines.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from atlas_git.errors import AtlasError

MEMORY_NAME = "memory.jsonl"
DEFAULT_MAX_ENTRIES = 200
_MAX_TEXT = 300
_KEYLIKE = re.compile(r"\b(sk|pk|rk|ghp|gho|github_pat|xox[abp])[-_][A-Za-z0-9_\-]{8,}")


def memory_path(repo: Path) -> Path:
    return repo / ".atlas" / MEMORY_NAME


_limits: dict[Path, int] = {}


def _max_entries(repo: Path) -> int:
    if repo in _limits:
        return _limits[repo]
    try:
        from atlas_git.config import load_config

        value = load_config(repo).get("memory.max_entries", DEFAULT_MAX_ENTRIES)
    except AtlasError:
        value = DEFAULT_MAX_ENTRIES
    limit = int(value) if isinstance(value, int) and value > 0 else DEFAULT_MAX_ENTRIES
    _limits[repo] = limit
    return limit


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _KEYLIKE.sub("[REDACTED]", value)[:_MAX_TEXT]
    return value


def append(repo: Path | None, entry: dict[str, Any], *, max_entries: int | None = None) -> bool:
    """Add one entry (best effort: a write fault returns False, never raises)."""
    from atlas_git.core.ledger import state_disabled

    if repo is None or state_disabled():
        return False
    from filelock import FileLock, Timeout

    record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    record.update({k: _clean(v) for k, v in entry.items() if v is not None})
    path = memory_path(repo)
    limit = max_entries or _max_entries(repo)
    try:
        path.parent.mkdir(exist_ok=True)
        with FileLock(str(path) + ".lock", timeout=2):
            with path.open("a+b") as fh:
                # A crash may have left a torn last line: start ours on a fresh one.
                torn = False
                if fh.seek(0, os.SEEK_END) > 0:
                    fh.seek(-1, os.SEEK_END)
                    torn = fh.read(1) != b"\n"
                line = json.dumps(record, separators=(",", ":")) + "\n"
                fh.write((("\n" + line) if torn else line).encode("utf-8"))
            # Trim only when clearly over, so most appends never read the file.
            if path.stat().st_size > limit * 160:
                lines = path.read_text(encoding="utf-8").splitlines()
                if len(lines) > limit:
                    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                    tmp.write_text("\n".join(lines[-limit:]) + "\n", encoding="utf-8")
                    os.replace(tmp, path)
    except (OSError, Timeout):
        return False
    return True


def recent(repo: Path | None, n: int = 20, *, kind: str | None = None) -> list[dict[str, Any]]:
    """The last ``n`` entries (optionally of one ``type``), oldest first."""
    if repo is None:
        return []
    path = memory_path(repo)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash: skip it, keep the rest
        if isinstance(item, dict) and (kind is None or item.get("type") == kind):
            out.append(item)
            if len(out) >= n:
                break
    return list(reversed(out))


def clear(repo: Path) -> int:
    """Delete the history; returns how many entries were removed."""
    path = memory_path(repo)
    if not path.exists():
        return 0
    try:
        count = sum(1 for _ in path.open(encoding="utf-8"))
        path.unlink()
    except OSError as exc:
        raise AtlasError(f"cannot clear {path}: {exc.strerror}") from exc
    return count
