"""``git atlas budget repair``: the documented recovery for a damaged ledger.

A healthy ledger gets its running totals rebuilt from the call rows and its
stale holds dropped. A damaged one (not a database, malformed) is moved aside
to ``usage.db.damaged-<time>`` together with its WAL, a new ledger is created,
and every call/outcome/decision row SQLite can still read is copied over.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from atlas_git.core.ledger.schema import connect, ledger_error, write_transaction
from atlas_git.errors import AtlasError

_REBUILD = (
    "DELETE FROM spend_buckets",
    "INSERT INTO spend_buckets (bucket, nusd) SELECT CAST(ts / 900 AS INTEGER),"
    " SUM(CAST(ROUND(cost * 1e9) AS INTEGER)) FROM calls WHERE cost IS NOT NULL GROUP BY 1",
    "DELETE FROM model_totals",
    "INSERT INTO model_totals (model, calls, ok_calls, nusd) SELECT model_requested, COUNT(*),"
    " SUM(success), COALESCE(SUM(CAST(ROUND(cost * 1e9) AS INTEGER)), 0) FROM calls GROUP BY 1",
    "INSERT INTO model_totals (model, outcomes, ok_outcomes) SELECT model, COUNT(*), SUM(success)"
    " FROM outcomes WHERE model IS NOT NULL GROUP BY 1 ORDER BY 1"
    " ON CONFLICT(model) DO UPDATE SET outcomes = excluded.outcomes, ok_outcomes = excluded.ok_outcomes",
)
_COPY_TABLES = ("calls", "outcomes", "decisions")
_EXPECTED_TABLES = frozenset({*_COPY_TABLES, "spend_buckets", "model_totals", "reservations"})


def rebuild_totals(conn: sqlite3.Connection, path: Path) -> None:
    """Recompute running totals from rows and drop expired holds."""
    with write_transaction(conn, path):
        for statement in _REBUILD:
            conn.execute(statement)
        conn.execute("DELETE FROM reservations WHERE expires <= ?", (time.time(),))


def check(path: Path) -> str | None:
    """None when the ledger is healthy (totals rebuilt), else what is wrong.

    A locked ledger raises :class:`AtlasError`: moving it aside would lose
    the running process's writes.
    """
    try:
        conn = connect(path, busy_ms=3000, create=False)
    except AtlasError as exc:
        if _fatal(exc):
            raise
        return str(exc.__cause__ or exc)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            return f"integrity check: {result}"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(_EXPECTED_TABLES - tables)
        if missing:
            return f"missing tables: {', '.join(missing)}"
        rebuild_totals(conn, path)
        return None
    except sqlite3.DatabaseError as exc:
        error = ledger_error(path, exc)
        if _fatal(error):
            raise error from exc
        return str(exc)
    except AtlasError as exc:
        if _fatal(exc):
            raise
        return str(exc.__cause__ or exc)
    finally:
        conn.close()


def _fatal(error: AtlasError) -> bool:
    """Locked or unwritable: moving the file aside would not help (or would lose writes)."""
    return "locked" in error.message or "cannot write" in error.message


def rebuild(path: Path, aside: Path) -> int:
    """Move the damaged file aside, create a new ledger, copy what is readable."""
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(aside) + suffix))
    conn = connect(path)
    copied = 0
    try:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ATTACH DATABASE ? AS old", (str(aside),))
            for table in _COPY_TABLES:
                try:
                    columns = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})") if r[1] != "id"]
                    names = ", ".join(columns)
                    with write_transaction(conn, path):
                        cur = conn.execute(
                            f"INSERT INTO main.{table} ({names}) SELECT {names} FROM old.{table}")
                    if table == "calls":
                        copied = max(cur.rowcount, 0)
                except Exception:  # salvage is best effort, table by table
                    continue
            conn.execute("DETACH DATABASE old")
        rebuild_totals(conn, path)
    finally:
        conn.close()
    return copied
