"""Ledger speed with 1,000,000 call rows: budget check and recording a call.

    python benchmarks/ledger_bench.py [--rows 1000000] [--iterations 2000]

Targets (issue 3): budget check <= 1 ms p50, record a call <= 2 ms p50.
Baseline in the same run: the naive check (SUM over the calls table for the
month, as in the seed sketch) to show what the running totals buy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from atlas_git.core.ledger import CallRow, Ledger, Limits
from atlas_git.core.ledger.repair import rebuild_totals
from atlas_git.core.ledger.windows import window_starts


def _fill(ledger: Ledger, rows: int, days: int) -> None:
    now = time.time()
    rng = random.Random(7)
    models = [f"vendor/model-{i}" for i in range(12)]
    batch = []
    conn = ledger.conn
    conn.execute("BEGIN")
    for i in range(rows):
        ts = now - rng.random() * days * 86400
        batch.append((ts, f"r{i // 3}", "fix", "edit", "gold", "semantic", 1, rng.choice(models), None,
                      800, 200, rng.random() * 0.002, "provider", rng.random() * 3, 1, None, 200, 0))
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO calls (ts, request_id, command, intent, tier, method, attempt,"
                             " model_requested, model_served, tokens_in, tokens_out, cost, cost_source,"
                             " duration, success, error_class, status, override)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    conn.execute("COMMIT")
    rebuild_totals(conn, ledger.path)


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p95_ms(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "usage.db"
        ledger = Ledger.open(path)
        started = time.perf_counter()
        _fill(ledger, args.rows, args.days)
        print(f"filled {args.rows:,} rows over {args.days} days in {time.perf_counter() - started:.1f}s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        zone = ZoneInfo("UTC")
        limits = Limits(daily=1e6, weekly=1e6, monthly=1e6, request=10.0)

        check: list[float] = []
        for _ in range(args.iterations):
            t = time.perf_counter()
            now = time.time()
            starts = window_starts(now, zone)
            spend = ledger.spend(starts, now)
            ledger.request_spend("r-new", now)
            check.append(time.perf_counter() - t)
        assert spend.windows["monthly"] > 0

        reserve: list[float] = []
        for i in range(args.iterations // 4):
            t = time.perf_counter()
            hold = ledger.reserve(request_id=f"b{i}", model="vendor/model-1", amount=0.01, limits=limits,
                                  starts=window_starts(time.time(), zone), ttl=600)
            reserve.append(time.perf_counter() - t)
            ledger.release(hold)

        record: list[float] = []
        for i in range(args.iterations):
            row = CallRow(request_id=f"n{i}", model_requested="vendor/model-2", success=True, cost=0.0004,
                          cost_source="provider", tokens_in=900, tokens_out=120, duration=1.2,
                          command="bench")
            t = time.perf_counter()
            ledger.record_call(row)
            record.append(time.perf_counter() - t)

        cold: list[float] = []
        for _ in range(max(20, args.iterations // 20)):
            t = time.perf_counter()
            fresh = Ledger.open(path)  # what a new CLI process pays: connect + pragmas + check
            fresh.spend(window_starts(time.time(), zone))
            fresh.close()
            cold.append(time.perf_counter() - t)

        naive: list[float] = []
        month = window_starts(time.time(), zone).monthly
        for _ in range(max(5, args.iterations // 100)):
            t = time.perf_counter()
            ledger.conn.execute("SELECT COALESCE(SUM(cost), 0) FROM calls WHERE ts >= ?", (month,)).fetchone()
            naive.append(time.perf_counter() - t)
        ledger.close()

    print(f"budget check (3 windows + holds + per-request): p50 {_p50_ms(check):.3f} ms, "
          f"p95 {_p95_ms(check):.3f} ms   target <= 1 ms p50: {'OK' if _p50_ms(check) <= 1 else 'MISSED'}")
    print(f"record a call (row + totals, one transaction):   p50 {_p50_ms(record):.3f} ms, "
          f"p95 {_p95_ms(record):.3f} ms   target <= 2 ms p50: {'OK' if _p50_ms(record) <= 2 else 'MISSED'}")
    print(f"reserve (BEGIN IMMEDIATE, purge, check, insert): p50 {_p50_ms(reserve):.3f} ms")
    print(f"cold check (open the file + check, new process): p50 {_p50_ms(cold):.3f} ms")
    print(f"baseline naive monthly SUM over calls:           p50 {_p50_ms(naive):.3f} ms "
          f"({_p50_ms(naive) / _p50_ms(check):.0f}x the check)")


if __name__ == "__main__":
    main()
