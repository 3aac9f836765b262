"""Spending analytics and telemetry read from the ledger.

``analytics()`` feeds ``git atlas budget analytics`` (spend by model, intent
and day, success rates, recommendations); ``stats()`` feeds ``git atlas
stats`` (latency percentiles, routing method mix, apply/test success per model
and tier). Days are calendar days in ``settings.timezone``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from atlas_git.config import Config

SHARE_ALERT = 0.5  # a model taking at least half the spend...
SUCCESS_ALERT = 0.8  # ...with a success rate below this gets a recommendation
MIN_SAMPLES = 3


def _ledger(config: Config, repo: Path | None) -> Any:
    from atlas_git.core.ledger import open_ledger

    return open_ledger(config, repo, create=False)


def _zone(config: Config) -> Any:
    from atlas_git.core.ledger.windows import resolve_zone

    return resolve_zone(str(config.get("settings.timezone", "local")))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def analytics(config: Config, repo: Path | None, days: int, now: float | None = None) -> dict[str, Any]:
    """Spend and success over the last ``days`` calendar days."""
    from atlas_git.core.ledger.windows import local_day, window_starts

    now = time.time() if now is None else now
    zone = _zone(config)
    # Start at local midnight ``days - 1`` days ago so the current day counts as one.
    cutoff = window_starts(now - (days - 1) * 86400, zone).daily
    # Noon of each day: a DST shift of an hour can't move it into a neighbouring day.
    day_names = [local_day(cutoff + i * 86400 + 43200, zone) for i in range(days)]
    by_day: dict[str, dict[str, Any]] = {d: {"date": d, "cost": 0.0, "calls": 0} for d in day_names}
    result: dict[str, Any] = {"days": days, "since": cutoff, "timezone": str(config.get("settings.timezone")),
                              "total_cost": 0.0, "total_calls": 0, "unknown_cost_calls": 0,
                              "by_model": [], "by_intent": [], "by_day": list(by_day.values()),
                              "recommendations": []}
    ledger = _ledger(config, repo)
    if ledger is None:
        return result
    rows = ledger.conn.execute(
        "SELECT model_requested, COUNT(*), SUM(success), COALESCE(SUM(cost), 0), SUM(cost IS NULL)"
        " FROM calls WHERE ts >= ? GROUP BY model_requested", (cutoff,)).fetchall()
    outcome_rows = ledger.conn.execute(
        "SELECT model, COUNT(*), SUM(success) FROM outcomes WHERE ts >= ? AND model IS NOT NULL"
        " GROUP BY model", (cutoff,)).fetchall()
    outcomes = {m: (int(n), int(ok)) for m, n, ok in outcome_rows}
    total = sum(float(r[3]) for r in rows)
    by_model = []
    for model, n, ok, cost, unknown in rows:
        o_n, o_ok = outcomes.get(model, (0, 0))
        rate = o_ok / o_n if o_n >= MIN_SAMPLES else (int(ok) / int(n) if n else None)
        by_model.append({"model": model, "calls": int(n), "cost": round(float(cost), 6),
                         "share": round(float(cost) / total, 4) if total else 0.0,
                         "success_rate": None if rate is None else round(rate, 4),
                         "rate_basis": "outcomes" if o_n >= MIN_SAMPLES else "calls"})
        result["unknown_cost_calls"] += int(unknown)
    by_model.sort(key=lambda r: (-r["cost"], r["model"]))
    result["by_model"] = by_model
    result["total_cost"] = round(total, 6)
    result["total_calls"] = sum(int(r[1]) for r in rows)
    result["by_intent"] = [
        {"intent": intent or "-", "calls": int(n), "cost": round(float(cost), 6)}
        for intent, n, cost in ledger.conn.execute(
            "SELECT intent, COUNT(*), COALESCE(SUM(cost), 0) FROM calls WHERE ts >= ?"
            " GROUP BY intent ORDER BY 3 DESC", (cutoff,)).fetchall()
    ]
    # Calls grouped per 15-minute bucket keep the local-day mapping in Python cheap.
    for bucket, n, cost in ledger.conn.execute(
            "SELECT CAST(ts / 900 AS INTEGER), COUNT(*), COALESCE(SUM(cost), 0) FROM calls"
            " WHERE ts >= ? GROUP BY 1", (cutoff,)).fetchall():
        day = by_day.get(local_day(int(bucket) * 900 + 1, zone))
        if day is not None:
            day["cost"] = round(day["cost"] + float(cost), 6)
            day["calls"] += int(n)
    result["recommendations"] = _recommend(by_model, total, result["unknown_cost_calls"])
    return result


def _recommend(by_model: list[dict[str, Any]], total: float, unknown: int) -> list[str]:
    recs: list[str] = []
    for row in by_model:
        rate = row["success_rate"]
        if total > 0 and row["share"] >= SHARE_ALERT and rate is not None and rate < SUCCESS_ALERT \
                and row["calls"] >= MIN_SAMPLES:
            recs.append(f"model {row['model']} costs {row['share']:.0%} of spend at a {rate:.0%} success "
                        "rate: consider a cheaper or more reliable model for its tier")
    low = [r for r in by_model if r["success_rate"] is not None and r["success_rate"] < 0.5
           and r["calls"] >= MIN_SAMPLES and r["share"] < SHARE_ALERT]
    for row in low[:2]:
        recs.append(f"model {row['model']} succeeds only {row['success_rate']:.0%} of the time")
    if unknown:
        recs.append(f"{unknown} call(s) have an unknown cost: price those models in .atlas/config.toml")
    return recs


def model_recommendations(config: Config, repo: Path | None) -> list[str]:
    """All-time recommendations from running totals (fast enough for `git atlas budget`)."""
    ledger = _ledger(config, repo)
    if ledger is None:
        return []
    rows = ledger.conn.execute(
        "SELECT model, calls, ok_calls, nusd, outcomes, ok_outcomes FROM model_totals").fetchall()
    total = sum(int(r[3]) for r in rows) / 1e9
    by_model = []
    for model, calls, ok_calls, nusd, outs, ok_outs in rows:
        rate = ok_outs / outs if outs >= MIN_SAMPLES else (ok_calls / calls if calls else None)
        cost = int(nusd) / 1e9
        by_model.append({"model": model, "calls": int(calls), "cost": cost,
                         "share": cost / total if total else 0.0, "success_rate": rate})
    by_model.sort(key=lambda r: -r["cost"])
    return _recommend(by_model, total, 0)


def stats(config: Config, repo: Path | None, days: int, now: float | None = None) -> dict[str, Any]:
    """Latency per model, routing method mix, apply/test success per model and tier."""
    now = time.time() if now is None else now
    cutoff = now - days * 86400
    result: dict[str, Any] = {"days": days, "latency": [], "methods": {}, "method_source": "none",
                              "outcomes_by_model": [], "outcomes_by_tier": []}
    ledger = _ledger(config, repo)
    if ledger is None:
        return result
    durations: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for model, duration, success in ledger.conn.execute(
            "SELECT model_requested, duration, success FROM calls WHERE ts >= ?", (cutoff,)):
        if success:
            durations.setdefault(model, []).append(float(duration))
        else:
            errors[model] = errors.get(model, 0) + 1
    for model in sorted(set(durations) | set(errors)):
        values = durations.get(model, [])
        p50, p95 = percentile(values, 50), percentile(values, 95)
        result["latency"].append({"model": model, "calls": len(values) + errors.get(model, 0),
                                  "errors": errors.get(model, 0),
                                  "p50": None if p50 is None else round(p50, 3),
                                  "p95": None if p95 is None else round(p95, 3)})
    methods = dict(ledger.conn.execute(
        "SELECT COALESCE(method, '-'), COUNT(*) FROM decisions WHERE ts >= ? GROUP BY 1",
        (cutoff,)).fetchall())
    if methods:
        result["method_source"] = "decisions"
    else:
        # No decisions recorded: count requests that called a provider, by the method they carried.
        methods = dict(ledger.conn.execute(
            "SELECT COALESCE(method, '-'), COUNT(DISTINCT request_id) FROM calls WHERE ts >= ?"
            " GROUP BY 1", (cutoff,)).fetchall())
        result["method_source"] = "calls" if methods else "none"
    result["methods"] = {str(k): int(v) for k, v in methods.items()}
    for key, out in (("model", "outcomes_by_model"), ("tier", "outcomes_by_tier")):
        rows = ledger.conn.execute(
            f"SELECT COALESCE({key}, '-'), kind, COUNT(*), SUM(success) FROM outcomes WHERE ts >= ?"
            " GROUP BY 1, 2 ORDER BY 1, 2", (cutoff,)).fetchall()
        result[out] = [{key: k, "kind": kind, "total": int(n), "ok": int(ok),
                        "success_rate": round(int(ok) / int(n), 4)} for k, kind, n, ok in rows]
    return result
