from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from atlas_git.core.ledger import BudgetExceeded, CallRow, Ledger, Limits
from atlas_git.core.ledger.schema import SCHEMA_VERSION
from atlas_git.core.ledger.windows import bucket_of, resolve_zone, window_starts
from atlas_git.errors import AtlasError, UsageError

UTC = ZoneInfo("UTC")


def starts_now() -> object:
    return window_starts(time.time(), UTC)


def row(cost: float | None, *, request: str = "r1", model: str = "m", ts: float | None = None,
        success: bool = True) -> CallRow:
    return CallRow(request_id=request, model_requested=model, success=success, cost=cost,
                   cost_source="provider", ts=ts)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger.open(tmp_path / "usage.db")
    yield led
    led.close()


def test_created_with_wal_and_current_schema(ledger: Ledger) -> None:
    assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not list(ledger.path.parent.glob(".usage.db.*.tmp"))  # atomic creation left no temp file


def test_reservations_count_against_the_limit_until_settled(ledger: Ledger) -> None:
    limits, starts = Limits(daily=1.0), starts_now()
    a = ledger.reserve(request_id="a", model="m", amount=0.4, limits=limits, starts=starts, ttl=60)
    ledger.reserve(request_id="b", model="m", amount=0.4, limits=limits, starts=starts, ttl=60)
    with pytest.raises(BudgetExceeded) as info:
        ledger.reserve(request_id="c", model="m", amount=0.4, limits=limits, starts=starts, ttl=60)
    assert info.value.window == "daily" and "held by running calls $0.8000" in str(info.value)
    # Settling at the real (lower) cost frees the rest of the hold.
    ledger.record_call(row(0.1, request="a"), reservation_id=a)
    ledger.reserve(request_id="c", model="m", amount=0.4, limits=limits, starts=starts, ttl=60)
    spend = ledger.spend(starts)
    assert spend.windows["daily"] == 100_000_000 and spend.reserved == 800_000_000


def test_exact_fit_is_allowed_and_a_nano_dollar_more_is_not(ledger: Ledger) -> None:
    limits, starts = Limits(daily=0.3), starts_now()
    for _ in range(3):
        ledger.record_call(row(0.1))
    with pytest.raises(BudgetExceeded):
        ledger.reserve(request_id="x", model="m", amount=1e-9, limits=limits, starts=starts, ttl=60)
    ledger.reserve(request_id="x", model="m", amount=0.0, limits=limits, starts=starts, ttl=60)


def test_expired_and_dead_process_holds_are_dropped(ledger: Ledger) -> None:
    limits, starts = Limits(daily=1.0), starts_now()
    ledger.reserve(request_id="old", model="m", amount=0.9, limits=limits, starts=starts, ttl=-1)
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(proc.stdout)
    ledger.conn.execute(
        "INSERT INTO reservations (request_id, model, nusd, pid, host, created, expires)"
        " VALUES ('killed', 'm', 900000000, ?, ?, ?, ?)",
        (dead_pid, ledger._host, time.time(), time.time() + 3600))
    ledger.reserve(request_id="new", model="m", amount=0.9, limits=limits, starts=starts, ttl=60)
    assert [r[0] for r in ledger.conn.execute("SELECT request_id FROM reservations")] == ["new"]


def test_per_request_cap_covers_all_attempts_of_a_request(ledger: Ledger) -> None:
    limits, starts = Limits(request=0.25), starts_now()
    ledger.record_call(row(0.2, request="req"))
    with pytest.raises(BudgetExceeded) as info:
        ledger.reserve(request_id="req", model="m", amount=0.1, limits=limits, starts=starts, ttl=60)
    assert info.value.window == "per-request"
    ledger.reserve(request_id="other", model="m", amount=0.1, limits=limits, starts=starts, ttl=60)


def test_override_skips_limits_but_still_holds(ledger: Ledger) -> None:
    limits, starts = Limits(daily=0.01), starts_now()
    ledger.reserve(request_id="o", model="m", amount=5.0, limits=limits, starts=starts, ttl=60, override=True)
    assert ledger.spend(starts).reserved == 5 * 10**9


def test_windows_separate_old_spend(ledger: Ledger) -> None:
    now = datetime(2026, 3, 18, 15, 0, tzinfo=UTC).timestamp()  # a Wednesday
    starts = window_starts(now, UTC)
    ledger.record_call(row(1.0, ts=now - 3600))  # today
    ledger.record_call(row(2.0, ts=now - 86400))  # Tuesday: this week
    ledger.record_call(row(4.0, ts=now - 10 * 86400))  # this month, earlier week
    ledger.record_call(row(8.0, ts=now - 30 * 86400))  # last month
    ledger.record_call(row(None, ts=now))  # unknown cost: recorded, never counted as 0 spend silently
    spend = ledger.spend(starts, now)
    assert spend.windows == {"daily": 10**9, "weekly": 3 * 10**9, "monthly": 7 * 10**9}
    assert ledger.conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 5


def test_window_starts_in_a_zone() -> None:
    now = datetime(2026, 3, 1, 1, 30, tzinfo=UTC).timestamp()  # a Sunday, 07:00 in Kolkata
    kolkata = ZoneInfo("Asia/Kolkata")
    starts = window_starts(now, kolkata)
    assert datetime.fromtimestamp(starts.daily, kolkata).isoformat() == "2026-03-01T00:00:00+05:30"
    assert datetime.fromtimestamp(starts.weekly, kolkata).isoformat() == "2026-02-23T00:00:00+05:30"
    assert datetime.fromtimestamp(starts.monthly, kolkata).isoformat() == "2026-03-01T00:00:00+05:30"
    # +05:30 starts fall exactly on a 15-minute bucket boundary.
    assert starts.daily == bucket_of(starts.daily) * 900
    assert window_starts(now, UTC).daily == datetime(2026, 3, 1, tzinfo=UTC).timestamp()


def test_dst_day_start_in_a_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 3, 29, 12, 0, tzinfo=paris).timestamp()  # the day clocks go forward
    assert datetime.fromtimestamp(window_starts(now, paris).daily, paris).hour == 0


def test_bad_timezone_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown timezone"):
        resolve_zone("Mars/Olympus")
    assert resolve_zone("local") is None


def test_concurrent_first_open_creates_one_schema(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    errors: list[BaseException] = []
    ledgers: list[Ledger] = []

    def open_one() -> None:
        try:
            ledgers.append(Ledger.open(path))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(ledgers) == 8
    for led in ledgers:
        led.record_call(row(0.01))
    assert ledgers[0].conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 8


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    Ledger.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(AtlasError, match="newer atlas-git"):
        Ledger.open(path)


def test_billed_failure_drops_hold_when_no_room_for_retry(ledger: Ledger) -> None:
    limits, starts = Limits(daily=1.0), starts_now()
    hold = ledger.reserve(request_id="t", model="m", amount=0.6, limits=limits, starts=starts, ttl=60)
    failed = CallRow(request_id="t", model_requested="m", success=False, cost=0.6, cost_source="assumed",
                     error_class="timeout")
    fits = ledger.record_call(failed, reservation_id=hold, settle=False, recheck=(limits, starts))
    assert fits is False
    assert ledger.spend(starts).reserved == 0 and ledger.spend(starts).windows["daily"] == 6 * 10**8


def test_outcomes_feed_model_rates(ledger: Ledger) -> None:
    ledger.record_call(row(0.01, request="q", model="gold/m"))
    for ok in (True, False, True, True):
        ledger.record_outcome("q", "test", ok, model="gold/m", tier="gold", intent="debug", detail=None)
    assert ledger.model_rates("gold/m") == (1, 1, 4, 3)
    assert ledger.last_call("q") == ("gold/m", None, None)
