"""``git atlas export FILE`` / ``git atlas import FILE``: all ``.atlas`` data as JSON Lines.

The first line is a header (``{"format": "atlas-git-export", "version": 1}``);
each further line is ``{"table": NAME, "row": {...}}`` for ledger calls,
outcomes and decisions, memory entries, the price cache, and the text of
``.atlas/config.toml``. Import merges: rows already present (same request id
and time) are skipped, running totals are updated in the same transaction, and
a bad file changes nothing. An existing ``.atlas/config.toml`` is never
overwritten. API keys are never part of ``.atlas`` and so never exported.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from pathlib import Path
from typing import Any, TextIO

from atlas_git.config import Config
from atlas_git.core.ledger.schema import write_transaction
from atlas_git.core.ledger.store import Ledger, to_nusd
from atlas_git.core.ledger.windows import bucket_of
from atlas_git.errors import AtlasError, UsageError

FORMAT = "atlas-git-export"
VERSION = 1
_TABLES: dict[str, tuple[str, ...]] = {
    "calls": ("ts", "request_id", "command", "intent", "tier", "method", "attempt", "model_requested",
              "model_served", "tokens_in", "tokens_out", "cost", "cost_source", "duration", "success",
              "error_class", "status", "override"),
    "outcomes": ("ts", "request_id", "kind", "success", "model", "tier", "intent", "detail"),
    "decisions": ("ts", "request_id", "intent", "tier", "model", "method", "confidence",
                  "estimated_cost", "override", "downgraded"),
}
# Small text files restored only where this repo has none (never overwritten).
_TEXT_FILES = {"config": "config.toml", "local_budget": "budget.toml"}
_REQUIRED = {"calls": ("ts", "request_id", "model_requested", "success", "cost_source"),
             "outcomes": ("ts", "request_id", "kind", "success"),
             "decisions": ("ts", "request_id")}


def export_data(config: Config, repo: Path, ledger: Ledger | None, out: TextIO) -> dict[str, int]:
    """Write everything to ``out``; returns row counts per table."""
    from atlas_git.core import memory
    from atlas_git.core.pricing import cache_path

    counts: dict[str, int] = {}

    def emit(table: str, row: Any) -> None:
        out.write(json.dumps({"table": table, "row": row}, separators=(",", ":")) + "\n")
        counts[table] = counts.get(table, 0) + 1

    out.write(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
    if ledger is not None:
        for table, columns in _TABLES.items():
            cur = ledger.conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
            for values in cur:
                emit(table, dict(zip(columns, values, strict=True)))
    for entry in memory.recent(repo, n=10**9):
        emit("memory", entry)
    for table, name in _TEXT_FILES.items():
        path = repo / ".atlas" / name
        if path.is_file():
            emit(table, {"text": path.read_text(encoding="utf-8")})
    cache = cache_path(config)
    if cache.is_file():
        with contextlib.suppress(ValueError):
            emit("price_cache", json.loads(cache.read_text(encoding="utf-8")))
    return counts


def _read_lines(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from exc
    try:
        header = json.loads(lines[0]) if lines else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UsageError(f"{path} is not an atlas-git export", hint="create one with `git atlas export FILE`")
    if header.get("version") != VERSION:
        raise UsageError(f"{path}: export version {header.get('version')!r} is not supported")
    items: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise UsageError(f"{path}:{number}: not valid JSON; nothing imported") from None
        table, row = (item.get("table"), item.get("row")) if isinstance(item, dict) else (None, None)
        if not isinstance(table, str) or not isinstance(row, dict):
            raise UsageError(f"{path}:{number}: expected {{table, row}}; nothing imported")
        missing = [k for k in _REQUIRED.get(table, ()) if row.get(k) is None]
        if missing:
            raise UsageError(f"{path}:{number}: {table} row lacks {', '.join(missing)}; nothing imported")
        items.append((table, row))
    return items


def import_data(config: Config, repo: Path, ledger: Ledger, path: Path) -> dict[str, int]:
    """Merge an export into this repo; returns counts of rows added per table."""
    from atlas_git.core import memory
    from atlas_git.core.pricing import cache_path

    items = _read_lines(path)  # validate everything before changing anything
    for table, row in items:
        if table in _TEXT_FILES:
            try:
                tomllib.loads(str(row.get("text", "")))
            except tomllib.TOMLDecodeError as exc:
                raise UsageError(f"{path}: the exported {_TEXT_FILES[table]} is invalid TOML ({exc}); "
                                 "nothing imported") from exc
    added: dict[str, int] = {}
    with write_transaction(ledger.conn, ledger.path):
        conn = ledger.conn
        for table, row in items:
            columns = _TABLES.get(table)
            if columns is None:
                continue
            if conn.execute(f"SELECT 1 FROM {table} WHERE request_id = ? AND ts = ? LIMIT 1",
                            (row["request_id"], row["ts"])).fetchone():
                continue
            try:
                conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                             f"({', '.join('?' for _ in columns)})", [row.get(c) for c in columns])
            except Exception as exc:  # a type the schema rejects: abort the whole import
                raise UsageError(f"{path}: bad {table} row ({exc}); nothing imported") from exc
            added[table] = added.get(table, 0) + 1
            if table == "calls":
                nusd = to_nusd(float(row["cost"])) if row.get("cost") is not None else 0
                if nusd:
                    conn.execute("INSERT INTO spend_buckets (bucket, nusd) VALUES (?, ?) ON CONFLICT(bucket)"
                                 " DO UPDATE SET nusd = nusd + excluded.nusd",
                                 (bucket_of(float(row["ts"])), nusd))
                conn.execute("INSERT INTO model_totals (model, calls, ok_calls, nusd) VALUES (?, 1, ?, ?)"
                             " ON CONFLICT(model) DO UPDATE SET calls = calls + 1,"
                             " ok_calls = ok_calls + excluded.ok_calls, nusd = nusd + excluded.nusd",
                             (row["model_requested"], int(bool(row["success"])), nusd))
            elif table == "outcomes" and row.get("model"):
                conn.execute("INSERT INTO model_totals (model, outcomes, ok_outcomes) VALUES (?, 1, ?)"
                             " ON CONFLICT(model) DO UPDATE SET outcomes = outcomes + 1,"
                             " ok_outcomes = ok_outcomes + excluded.ok_outcomes",
                             (row["model"], int(bool(row["success"]))))
    existing = {json.dumps(e, sort_keys=True) for e in memory.recent(repo, n=10**9)}
    for table, row in items:
        if table == "memory" and json.dumps(row, sort_keys=True) not in existing:
            memory.append(repo, row)
            added["memory"] = added.get("memory", 0) + 1
        elif table in _TEXT_FILES and isinstance(row.get("text"), str):
            target = repo / ".atlas" / _TEXT_FILES[table]
            if not target.exists():
                target.write_text(row["text"], encoding="utf-8")
                added[table] = 1
        elif table == "price_cache":
            cache = cache_path(config)
            if not cache.exists():
                try:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    cache.write_text(json.dumps(row), encoding="utf-8")
                    added["price_cache"] = 1
                except OSError as exc:
                    raise AtlasError(f"cannot write {cache}: {exc.strerror}") from exc
    return added
