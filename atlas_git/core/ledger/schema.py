"""The ledger's SQLite file: atomic creation, numbered migrations, fault mapping.

The database is created in a temporary file, migrated, then moved into place
with ``os.replace`` under a file lock, so a second process never sees a
half-built schema. ``PRAGMA user_version`` is the migration number. WAL lets
readers run while one writer holds the lock; the busy timeout makes writers
queue instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from atlas_git.errors import AtlasError

# Each entry is one migration; never edit a shipped one, append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: calls, running totals, reservations, outcomes, routing decisions
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,                 -- UTC, unix seconds
        request_id TEXT NOT NULL,
        command TEXT, intent TEXT, tier TEXT, method TEXT, attempt INTEGER,
        model_requested TEXT NOT NULL,
        model_served TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cost REAL,                        -- USD; NULL = unknown (never assumed 0)
        cost_source TEXT NOT NULL,        -- provider | computed | assumed | none | unknown
        duration REAL NOT NULL DEFAULT 0,
        success INTEGER NOT NULL,
        error_class TEXT,
        status INTEGER,
        override INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX calls_ts ON calls(ts);
    CREATE INDEX calls_request ON calls(request_id);
    -- Spend per 15-minute UTC bucket in nano-USD: windows sum a few thousand rows.
    CREATE TABLE spend_buckets (
        bucket INTEGER PRIMARY KEY,
        nusd INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE model_totals (
        model TEXT PRIMARY KEY,
        calls INTEGER NOT NULL DEFAULT 0,
        ok_calls INTEGER NOT NULL DEFAULT 0,
        nusd INTEGER NOT NULL DEFAULT 0,
        outcomes INTEGER NOT NULL DEFAULT 0,
        ok_outcomes INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        model TEXT NOT NULL,
        nusd INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    CREATE INDEX reservations_request ON reservations(request_id);
    CREATE TABLE outcomes (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        request_id TEXT NOT NULL,
        kind TEXT NOT NULL,               -- apply | test | lint | review | ...
        success INTEGER NOT NULL,
        model TEXT, tier TEXT, intent TEXT, detail TEXT
    );
    CREATE INDEX outcomes_ts ON outcomes(ts);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        request_id TEXT NOT NULL,
        intent TEXT, tier TEXT, model TEXT, method TEXT,
        confidence REAL, estimated_cost REAL,
        override INTEGER NOT NULL DEFAULT 0,
        downgraded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX decisions_ts ON decisions(ts);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

RECOVERY_HINT = "run `git atlas budget repair` (moves the damaged file aside and starts a new ledger)"


def ledger_error(path: Path, exc: BaseException) -> AtlasError:
    """Turn a sqlite/OS fault into one clear line with a documented recovery."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return AtlasError(f"the usage ledger {path} is locked by another process",
                          hint="wait and retry; if it persists, stop other atlas processes or "
                          + RECOVERY_HINT)
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text \
            or isinstance(exc, PermissionError):
        return AtlasError(f"cannot write the usage ledger {path} ({exc})",
                          hint=f"make {path.parent} writable (chmod u+w), or set "
                          "ATLAS_DISABLE_STATE=1 to run without a ledger (no budget limits)")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return AtlasError(f"the usage ledger {path} is damaged ({exc})", hint=RECOVERY_HINT)
    if "disk" in text or "full" in text or isinstance(exc, OSError):
        return AtlasError(f"cannot use the usage ledger {path} ({exc})", hint=RECOVERY_HINT)
    return AtlasError(f"usage ledger error in {path}: {exc}", hint=RECOVERY_HINT)


def _configure(conn: sqlite3.Connection, busy_ms: int) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, fast commits
    conn.execute("PRAGMA foreign_keys = ON")


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this file has not seen yet, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise AtlasError(f"the usage ledger was written by a newer atlas-git (schema {version})",
                         hint="upgrade atlas-git")
    for number in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > number:
                conn.execute("ROLLBACK")
                continue
            for statement in MIGRATIONS[number].split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _create_atomically(path: Path, busy_ms: int) -> None:
    from filelock import FileLock, Timeout

    lock = FileLock(str(path) + ".lock", timeout=max(1.0, busy_ms / 1000))
    try:
        with lock:
            if path.exists():
                return
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                _configure(conn, busy_ms)
                migrate(conn)
            finally:
                conn.close()
            os.replace(tmp, path)
    except Timeout as exc:
        raise AtlasError(f"timed out waiting to create {path}",
                         hint=f"another atlas process holds {path}.lock; remove it if none runs") from exc


def connect(path: Path, *, busy_ms: int = 5000, create: bool = True) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the ledger at ``path``.

    Raises :class:`AtlasError` with a recovery hint on any fault.
    """
    try:
        if not path.exists():
            if not create:
                raise FileNotFoundError(path)
            _create_atomically(path, busy_ms)
        conn = sqlite3.connect(path, isolation_level=None, timeout=busy_ms / 1000,
                               check_same_thread=False)
        try:
            _configure(conn, busy_ms)
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn
    except FileNotFoundError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise ledger_error(path, exc) from exc


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: one writer at a time, others wait."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise ledger_error(path, exc) from exc
    try:
        yield conn
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise ledger_error(path, exc) from exc
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise ledger_error(path, exc) from exc
