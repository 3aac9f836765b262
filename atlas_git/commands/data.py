"""``git atlas export|import FILE`` and ``git atlas memory show|clear``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from atlas_git import ui
from atlas_git.config import load_config
from atlas_git.errors import EXIT_OK, AtlasError, UsageError
from atlas_git.paths import find_repo


def _repo() -> Path:
    repo = find_repo()
    if repo is None:
        raise UsageError("not inside a git repository", hint=".atlas/ data belongs to a repository")
    return repo


def export(file: str) -> int:
    """Write all .atlas data to FILE (``-`` = stdout) as JSON Lines."""
    import sys

    from atlas_git.core.ledger import open_ledger
    from atlas_git.core.ledger.transfer import export_data

    repo = _repo()
    config = load_config(repo)
    ledger = open_ledger(config, repo, create=False)
    if file == "-":
        counts = export_data(config, repo, ledger, sys.stdout)
    else:
        path = Path(file)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                counts = export_data(config, repo, ledger, fh)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise AtlasError(f"cannot write {path}: {exc.strerror}") from exc
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "nothing"
    ui.info(f"exported {summary}")
    return EXIT_OK


def import_file(file: str) -> int:
    """Merge an export into this repository's .atlas data."""
    from atlas_git.core.ledger import open_ledger
    from atlas_git.core.ledger.transfer import import_data

    repo = _repo()
    config = load_config(repo)
    ledger = open_ledger(config, repo)
    if ledger is None:
        raise AtlasError("ATLAS_DISABLE_STATE=1: there is no ledger to import into")
    added = import_data(config, repo, ledger, Path(file))
    summary = ", ".join(f"{n} {t}" for t, n in sorted(added.items())) or "nothing new"
    ui.out(f"imported {summary}")
    return EXIT_OK


def memory_show(limit: int, as_json: bool) -> int:
    """Print the last ``limit`` memory entries."""
    from atlas_git.core import memory

    entries = memory.recent(_repo(), limit)
    if as_json:
        for entry in entries:
            ui.out(json.dumps(entry, sort_keys=True))
        return EXIT_OK
    if not entries:
        ui.out("memory is empty")
    for e in entries:
        fields = " ".join(f"{k}={e[k]}" for k in ("intent", "tier", "model", "method", "kind", "success")
                          if k in e)
        text = f" {e['request']!r}" if e.get("request") else ""
        ui.out(f"{e.get('ts', '?')} {e.get('type', '?'):<8} {e.get('request_id', '-')} {fields}{text}")
    return EXIT_OK


def memory_clear() -> int:
    """Delete ``.atlas/memory.jsonl``."""
    from atlas_git.core import memory

    removed = memory.clear(_repo())
    ui.out(f"memory cleared ({removed} entries removed)")
    return EXIT_OK
