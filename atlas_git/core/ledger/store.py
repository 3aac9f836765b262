"""The ledger: reservations, one row per provider call, running totals.

Money is kept as integer nano-USD in totals and reservations, so sums are
exact and "never above the limit" is a precise statement. Each write is one
``BEGIN IMMEDIATE`` transaction: concurrent processes queue on SQLite's write
lock, so a reservation always sees every other process's spend and holds.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_git.core.ledger.limits import Limits
from atlas_git.core.ledger.schema import connect, ledger_error, write_transaction
from atlas_git.core.ledger.windows import WINDOWS, WindowStarts, bucket_of
from atlas_git.errors import AtlasError

NANO = 1_000_000_000


def to_nusd(usd: float) -> int:
    return round(usd * NANO)


def to_nusd_ceil(usd: float) -> int:
    """Round a reservation up so rounding can never let spend pass a limit."""
    return math.ceil(usd * NANO - 1e-6)


def to_usd(nusd: int) -> float:
    return nusd / NANO


class BudgetExceeded(AtlasError):
    """A call was refused because its worst case does not fit a limit."""

    def __init__(self, window: str, limit: float, spent: float, reserved: float, needed: float) -> None:
        super().__init__(
            f"budget refused the call: {window} limit ${limit:.4f}, spent ${spent:.4f}, "
            f"held by running calls ${reserved:.4f}, this call may cost up to ${needed:.4f}",
            hint="raise the limit with `git atlas budget set`, use a cheaper tier, or --budget-override",
        )
        self.window = window


@dataclass
class CallRow:
    """One HTTP attempt as stored (see schema for column meanings)."""

    request_id: str
    model_requested: str
    success: bool
    cost: float | None
    cost_source: str
    model_served: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    duration: float = 0.0
    error_class: str | None = None
    status: int | None = None
    command: str | None = None
    intent: str | None = None
    tier: str | None = None
    method: str | None = None
    attempt: int | None = None
    override: bool = False
    ts: float | None = None


@dataclass(frozen=True)
class Spend:
    """Settled spend per window plus what running calls hold (nano-USD)."""

    windows: dict[str, int]
    reserved: int


def _hostname() -> str:
    # os.uname avoids importing socket (~10 ms) on the route hot path.
    if hasattr(os, "uname"):
        return os.uname().nodename
    import platform

    return platform.node()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class Ledger:
    """An open ledger file. Cheap to keep open for a whole process."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._host = _hostname()

    @classmethod
    def open(cls, path: Path, *, busy_ms: int = 5000, create: bool = True) -> Ledger:
        return cls(path, connect(path, busy_ms=busy_ms, create=create))

    def close(self) -> None:
        self.conn.close()

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise ledger_error(self.path, exc) from exc

    # -- reading ----------------------------------------------------------------
    def spend(self, starts: WindowStarts, now: float | None = None) -> Spend:
        """Settled spend in each window and the total held by live reservations."""
        now = time.time() if now is None else now
        d, w, m = (bucket_of(starts.daily), bucket_of(starts.weekly), bucket_of(starts.monthly))
        row = self._read(
            "SELECT COALESCE(SUM(CASE WHEN bucket >= ? THEN nusd END), 0),"
            " COALESCE(SUM(CASE WHEN bucket >= ? THEN nusd END), 0),"
            " COALESCE(SUM(CASE WHEN bucket >= ? THEN nusd END), 0),"
            " (SELECT COALESCE(SUM(nusd), 0) FROM reservations WHERE expires > ?)"
            " FROM spend_buckets WHERE bucket >= ?",
            (d, w, m, now, min(d, w, m)),
        )[0]
        values = dict(zip(WINDOWS, (int(v) for v in row[:3]), strict=True))
        return Spend(values, int(row[3]))

    def request_spend(self, request_id: str, now: float | None = None) -> int:
        """Settled plus held spend of one request (nano-USD)."""
        now = time.time() if now is None else now
        row = self._read(
            "SELECT (SELECT COALESCE(SUM(cost), 0) FROM calls WHERE request_id = ?),"
            " (SELECT COALESCE(SUM(nusd), 0) FROM reservations WHERE request_id = ? AND expires > ?)",
            (request_id, request_id, now),
        )[0]
        settled = float(row[0])
        held = int(row[1])
        return int(to_nusd(settled) + held)

    def model_rates(self, model: str) -> tuple[int, int, int, int]:
        """``(calls, ok_calls, outcomes, ok_outcomes)`` recorded for ``model``."""
        rows = self._read("SELECT calls, ok_calls, outcomes, ok_outcomes FROM model_totals WHERE model = ?",
                          (model,))
        if not rows:
            return (0, 0, 0, 0)
        c, ok, o, ok_o = rows[0]
        return int(c), int(ok), int(o), int(ok_o)

    # -- writing ----------------------------------------------------------------
    def _purge_stale(self, now: float) -> None:
        """Drop reservations that expired or whose process on this host is gone."""
        self.conn.execute("DELETE FROM reservations WHERE expires <= ?", (now,))
        rows = self.conn.execute("SELECT id, pid FROM reservations WHERE host = ? AND pid != ?",
                                 (self._host, os.getpid())).fetchall()
        dead = [(rid,) for rid, pid in rows if not _pid_alive(int(pid))]
        if dead:
            self.conn.executemany("DELETE FROM reservations WHERE id = ?", dead)

    def _check(self, limits: Limits, starts: WindowStarts, request_id: str, needed: int,
               now: float, *, extra_reserved: int = 0) -> None:
        spend = self.spend(starts, now)
        for window, limit in limits.windows().items():
            spent = spend.windows[window]
            held = spend.reserved - extra_reserved
            if spent + held + needed > to_nusd(limit):
                raise BudgetExceeded(window, limit, to_usd(spent), to_usd(held), to_usd(needed))
        if limits.request is not None:
            used = self.request_spend(request_id, now) - extra_reserved
            if used + needed > to_nusd(limits.request):
                raise BudgetExceeded("per-request", limits.request, to_usd(used), 0.0, to_usd(needed))

    def reserve(self, *, request_id: str, model: str, amount: float, limits: Limits,
                starts: WindowStarts, ttl: float, override: bool = False) -> int:
        """Hold ``amount`` USD against every window; raise :class:`BudgetExceeded` if it won't fit."""
        needed = to_nusd_ceil(amount)
        now = time.time()
        with write_transaction(self.conn, self.path):
            self._purge_stale(now)
            if not override:
                self._check(limits, starts, request_id, needed, now)
            cur = self.conn.execute(
                "INSERT INTO reservations (request_id, model, nusd, pid, host, created, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request_id, model, needed, os.getpid(), self._host, now, now + ttl),
            )
            return int(cur.lastrowid or 0)

    def release(self, reservation_id: int) -> None:
        """Drop a hold (the call failed or was settled)."""
        with write_transaction(self.conn, self.path):
            self.conn.execute("DELETE FROM reservations WHERE id = ?", (reservation_id,))

    def record_call(self, row: CallRow, *, reservation_id: int | None = None, settle: bool = True,
                    recheck: tuple[Limits, WindowStarts] | None = None) -> bool:
        """Store one attempt and add its cost to the totals, in one transaction.

        ``settle`` drops the reservation (the call is over). Otherwise the hold
        stays for a retry of the same model; with ``recheck`` the retry is
        allowed only while spend plus holds still fit every limit: returns
        False (and drops the hold) when it no longer does.
        """
        ts = time.time() if row.ts is None else row.ts
        with write_transaction(self.conn, self.path):
            self.conn.execute(
                "INSERT INTO calls (ts, request_id, command, intent, tier, method, attempt,"
                " model_requested, model_served, tokens_in, tokens_out, cost, cost_source, duration,"
                " success, error_class, status, override)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ts, row.request_id, row.command, row.intent, row.tier, row.method, row.attempt,
                 row.model_requested, row.model_served, row.tokens_in, row.tokens_out, row.cost,
                 row.cost_source, row.duration, int(row.success), row.error_class, row.status,
                 int(row.override)),
            )
            nusd = to_nusd(row.cost) if row.cost is not None else 0
            if nusd:
                self.conn.execute(
                    "INSERT INTO spend_buckets (bucket, nusd) VALUES (?, ?)"
                    " ON CONFLICT(bucket) DO UPDATE SET nusd = nusd + excluded.nusd",
                    (bucket_of(ts), nusd),
                )
            self.conn.execute(
                "INSERT INTO model_totals (model, calls, ok_calls, nusd) VALUES (?, 1, ?, ?)"
                " ON CONFLICT(model) DO UPDATE SET calls = calls + 1,"
                " ok_calls = ok_calls + excluded.ok_calls,"
                " nusd = nusd + excluded.nusd",
                (row.model_requested, int(row.success), nusd),
            )
            if reservation_id is None:
                return True
            if settle:
                self.conn.execute("DELETE FROM reservations WHERE id = ?", (reservation_id,))
                return True
            if recheck is not None and nusd and not row.override:
                try:
                    self._check(recheck[0], recheck[1], row.request_id, 0, time.time())
                except BudgetExceeded:
                    self.conn.execute("DELETE FROM reservations WHERE id = ?", (reservation_id,))
                    return False
            return True

    def record_outcome(self, request_id: str, kind: str, success: bool, *, model: str | None,
                       tier: str | None, intent: str | None, detail: str | None) -> None:
        """Store an apply/test/lint outcome and feed the model's success rate."""
        with write_transaction(self.conn, self.path):
            self.conn.execute(
                "INSERT INTO outcomes (ts, request_id, kind, success, model, tier, intent, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), request_id, kind, int(success), model, tier, intent, detail),
            )
            if model:
                self.conn.execute(
                    "INSERT INTO model_totals (model, outcomes, ok_outcomes) VALUES (?, 1, ?)"
                    " ON CONFLICT(model) DO UPDATE SET outcomes = outcomes + 1,"
                    " ok_outcomes = ok_outcomes + excluded.ok_outcomes",
                    (model, int(success)),
                )

    def record_decision(self, request_id: str, *, intent: str | None, tier: str | None,
                        model: str | None, method: str | None, confidence: float | None,
                        estimated_cost: float | None, override: bool, downgraded: bool) -> None:
        """Store a routing decision (the method mix in `git atlas stats`)."""
        with write_transaction(self.conn, self.path):
            self.conn.execute(
                "INSERT INTO decisions (ts, request_id, intent, tier, model, method, confidence,"
                " estimated_cost, override, downgraded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), request_id, intent, tier, model, method, confidence, estimated_cost,
                 int(override), int(downgraded)),
            )

    def last_call(self, request_id: str) -> tuple[str | None, str | None, str | None]:
        """``(model, tier, intent)`` of the request's last successful call."""
        rows = self._read("SELECT model_requested, tier, intent FROM calls"
                          " WHERE request_id = ? AND success = 1 ORDER BY id DESC LIMIT 1", (request_id,))
        if not rows:
            return None, None, None
        m, t, i = rows[0]
        return (str(m) if m else None, str(t) if t else None, str(i) if i else None)
