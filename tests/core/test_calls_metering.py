from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.core import ledger as ledger_mod
from atlas_git.core.budget import budget_view
from atlas_git.core.calls import CallContext, complete
from atlas_git.errors import AtlasError
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply

MSG = [{"role": "user", "content": "say ok"}]
PRICED = """
[models."paid/m"]
input_per_mtok = 1000.0
output_per_mtok = 1000.0
[models."cheap/m"]
input_per_mtok = 1.0
output_per_mtok = 1.0
[models."free/m"]
input_per_mtok = 0.0
output_per_mtok = 0.0
"""


def setup(repo: Path, budget: str = "", provider: str = "max_retries = 0") -> CallContext:
    (repo / ".atlas").mkdir(exist_ok=True)
    (repo / ".atlas" / "config.toml").write_text(
        f"[provider]\n{provider}\nbackoff_base = 0.01\nbackoff_max = 0.02\nread_timeout = 1.0\n"
        f"[budget]\n{budget}\n{PRICED}")
    return CallContext(config=load_config(repo), repo=repo, command="test")


def rows(repo: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(repo / ".atlas" / "usage.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM calls ORDER BY id").fetchall()
    finally:
        conn.close()


def holds(repo: Path) -> int:
    conn = sqlite3.connect(repo / ".atlas" / "usage.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0])
    finally:
        conn.close()


def test_success_records_provider_cost_and_releases_hold(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0")
    fake_llm.push(Reply("ok", cost=0.0123, prompt_tokens=7, completion_tokens=2, model="served/x"))
    result = complete(ctx, MSG, models=["paid/m"], max_tokens=10)
    assert result.content == "ok"
    (r,) = rows(repo)
    assert (r["cost"], r["cost_source"]) == (0.0123, "provider")
    assert (r["model_served"], r["tokens_in"]) == ("served/x", 7)
    assert r["request_id"] == ctx.request_id and r["command"] == "test" and r["success"] == 1
    assert holds(repo) == 0
    assert budget_view(ctx.config, repo).remaining() == pytest.approx(1.0 - 0.0123)


def test_cost_computed_from_prices_when_provider_omits_it(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0")
    fake_llm.push(Reply("ok", cost=None, prompt_tokens=100, completion_tokens=50))
    complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    (r,) = rows(repo)
    assert r["cost_source"] == "computed" and r["cost"] == pytest.approx(150 * 1e-6)


def test_unpriced_model_refused_under_budget_without_any_http(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0")
    with pytest.raises(AtlasError, match="no known price"):
        complete(ctx, MSG, models=["mystery/m"], max_tokens=10)
    assert fake_llm.chat_requests() == []


def test_unpriced_model_without_budget_is_recorded_as_unknown_not_free(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo)
    fake_llm.push(Reply("ok", cost=None))
    complete(ctx, MSG, models=["mystery/m"], max_tokens=10)
    (r,) = rows(repo)
    assert r["cost"] is None and r["cost_source"] == "unknown"


def test_refused_primary_falls_back_to_cheaper_model(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 0.05")
    fake_llm.push(Reply("cheap answer", cost=0.0001))
    result = complete(ctx, MSG, models=["paid/m", "cheap/m"], max_tokens=100)  # paid worst case ~ $0.1
    assert result.model_requested == "cheap/m"
    assert [b["model"] for b in fake_llm.chat_requests()] == ["cheap/m"]


def test_all_refused_raises_budget_error_and_calls_nothing(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 0.001")
    with pytest.raises(AtlasError, match="budget refused the call: daily limit"):
        complete(ctx, MSG, models=["paid/m"], max_tokens=100)
    assert fake_llm.chat_requests() == [] and rows(repo) == []


def test_paid_fallback_behind_free_primary_is_rechecked(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 0.001")
    fake_llm.push(Fault.server_error(503))  # the free model is down
    with pytest.raises(AtlasError, match="budget refused"):
        complete(ctx, MSG, models=["free/m", "paid/m"], max_tokens=100)
    assert [b["model"] for b in fake_llm.chat_requests()] == ["free/m"]
    (r,) = rows(repo)
    assert (r["error_class"], r["cost"], r["cost_source"]) == ("server", 0.0, "none")
    assert holds(repo) == 0


def test_every_retry_is_a_row_and_failure_releases_hold(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0", provider="max_retries = 2")
    fake_llm.push(Fault.rate_limit(retry_after=0), Fault.server_error(500), Fault.server_error(500))
    with pytest.raises(AtlasError):
        complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    assert [r["error_class"] for r in rows(repo)] == ["rate_limit", "server", "server"]
    assert holds(repo) == 0


def test_timeout_is_recorded_at_worst_case(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0", provider="max_retries = 0")
    fake_llm.push(Fault.timeout(2.0))
    with pytest.raises(AtlasError):
        complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    (r,) = rows(repo)
    assert r["error_class"] == "timeout" and r["cost_source"] == "assumed" and r["cost"] > 0


def test_budget_override_passes_and_is_logged(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 0.001")
    ctx.budget_override = True
    fake_llm.push(Reply("ok", cost=0.01))
    complete(ctx, MSG, models=["paid/m"], max_tokens=100)
    (r,) = rows(repo)
    assert r["override"] == 1


def test_corrupt_ledger_means_no_call(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo)
    (repo / ".atlas" / "usage.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AtlasError) as info:
        complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    assert "damaged" in str(info.value) and "git atlas budget repair" in str(info.value)
    assert fake_llm.chat_requests() == []


def test_locked_ledger_means_no_call(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0\nbusy_timeout_ms = 200")
    ledger_mod.open_ledger(ctx.config, repo)  # create it
    ledger_mod.forget(repo / ".atlas" / "usage.db")
    blocker = sqlite3.connect(repo / ".atlas" / "usage.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(AtlasError, match="locked by another process"):
            complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert fake_llm.chat_requests() == []


def test_disabled_state_with_a_budget_refuses(repo: Path, fake_llm: FakeLLM,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = setup(repo, "daily = 1.0")
    monkeypatch.setenv("ATLAS_DISABLE_STATE", "1")
    with pytest.raises(AtlasError, match="ATLAS_DISABLE_STATE"):
        complete(ctx, MSG, models=["cheap/m"], max_tokens=10)
    assert fake_llm.chat_requests() == []


def test_success_rate_learns_from_outcomes(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "daily = 1.0")
    for _ in range(3):
        complete(CallContext(config=ctx.config, repo=repo, command="t", request_id="req1"), MSG,
                 models=["cheap/m"], max_tokens=10)
    view = budget_view(ctx.config, repo)
    assert view.success_rate("cheap/m") == pytest.approx((3 + 3.2) / 7)  # calls, shrunk to the prior
    for ok in (True, False, False, False):
        assert ledger_mod.record_outcome(repo, "req1", "test", ok, config=ctx.config)
    # Outcomes now drive it: 1 of 4 tests passed.
    assert budget_view(ctx.config, repo).success_rate("cheap/m") == pytest.approx((1 + 3.2) / 8)
    for _ in range(40):
        ledger_mod.record_outcome(repo, "req1", "test", False, config=ctx.config)
    assert budget_view(ctx.config, repo).success_rate("cheap/m") < 0.15  # evidence wins over the prior
    assert budget_view(ctx.config, repo).success_rate("never/used") is None


def test_threads_share_the_cap_without_overspending(repo: Path, fake_llm: FakeLLM) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ctx = setup(repo, "daily = 0.05")
    fake_llm.default = Reply("ok", cost=0.004, delay=0.01)

    def until_refused(_: int) -> int:
        made = 0
        while True:
            try:
                complete(CallContext(config=ctx.config, repo=repo, command="t"), MSG, models=["cheap/m"],
                         max_tokens=5000)  # worst case a little over $0.005
            except AtlasError as exc:
                assert "budget refused" in str(exc)
                return made
            made += 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = sum(pool.map(until_refused, range(8)))
    spent = sum(r["cost"] for r in rows(repo))
    assert made == len(rows(repo))
    assert 0.05 - 0.0051 < spent <= 0.05 and holds(repo) == 0


def test_router_learns_from_recorded_outcomes(repo: Path) -> None:
    """Adaptive choice: the router's value score moves off a model that keeps failing."""
    select = pytest.importorskip("atlas_git.core.router.select")
    config = load_config(repo)
    before = select.select_model(config, tier="silver", intent="edit", prompt_tokens=500,
                                 budget=budget_view(config, repo)).model
    for _ in range(30):
        ledger_mod.record_outcome(repo, "r", "test", False, model=before, config=config)
    after = select.select_model(config, tier="silver", intent="edit", prompt_tokens=500,
                                budget=budget_view(config, repo)).model
    assert after != before


def test_damaged_ledger_hides_history_but_not_limits(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "usage.db").write_bytes(b"\0garbage" * 64)
    view = budget_view(load_config(repo), repo)
    assert view.success_rate("m") is None and view.remaining() is None  # no limit: nothing to read
    (repo / ".atlas" / "budget.toml").write_text("[budget]\ndaily = 1.0\n")
    with pytest.raises(AtlasError, match="git atlas budget repair"):
        budget_view(load_config(repo), repo).remaining()


def test_per_request_cap_spans_fallbacks(repo: Path, fake_llm: FakeLLM) -> None:
    ctx = setup(repo, "request = 0.0002")
    fake_llm.push(Fault.server_error(503))
    with pytest.raises(AtlasError, match="per-request limit"):
        # cheap/m fits the cap and is tried; the paid fallback is re-checked against it and refused.
        complete(ctx, MSG, models=["cheap/m", "paid/m"], max_tokens=100)
    assert [b["model"] for b in fake_llm.chat_requests()] == ["cheap/m"]


def test_stale_prices_warn_once_at_call_time(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import time

    from atlas_git.core import calls

    ctx = setup(repo)
    cache = repo / ".atlas" / "models-cache.json"
    cache.write_text(json.dumps({"fetched_at": time.time() - 20 * 86400, "base_url": fake_llm.base_url,
                                 "models": {}}))
    monkeypatch.setattr(calls, "_warned_stale", False)
    complete(ctx, MSG, models=["cheap/m"], max_tokens=5)
    complete(ctx, MSG, models=["cheap/m"], max_tokens=5)
    err = capsys.readouterr().err
    assert err.count("refreshed 20 days ago") == 1


def test_bad_timezone_is_a_usage_error(repo: Path, fake_llm: FakeLLM) -> None:
    from atlas_git.errors import UsageError

    ctx = setup(repo, "daily = 1.0")
    ctx.config.data["settings"]["timezone"] = "Mars/Olympus_Mons"
    with pytest.raises(UsageError, match="unknown timezone"):
        complete(ctx, MSG, models=["cheap/m"], max_tokens=5)
    assert fake_llm.chat_requests() == []
