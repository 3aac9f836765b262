from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.testing.fake_llm import FakeLLM, Reply
from tests.conftest import cli

MODELS = [
    {"id": "openai/gpt-4o-mini", "pricing": {"prompt": "0.000001", "completion": "0.000002"},
     "context_length": 64000},
    {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}},
]


def test_list_by_tier_with_prices(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(capsys, "models")
    assert rc == 0 and "silver" in out and "diamond" in out and "openai/gpt-4o-mini" in out
    assert "per Mtok" in out and "models refresh" in err
    rows = json.loads(cli(capsys, "models", "--json")[1])["models"]
    mini = next(r for r in rows if r["model"] == "openai/gpt-4o-mini")
    assert mini["tier"] == "silver" and mini["price_source"] == "defaults" and mini["input_per_mtok"] == 0.15


def test_refresh_caches_prices_that_then_win(in_repo: Path, fake_llm: FakeLLM,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.models = MODELS
    rc, out, _ = cli(capsys, "models", "refresh")
    assert rc == 0 and "2 models (1 priced)" in out
    cache = json.loads((in_repo / ".atlas" / "models-cache.json").read_text())
    assert cache["fetched_at"] > 0 and cache["base_url"] == fake_llm.base_url
    get = next(r for r in fake_llm.requests if r.path.endswith("/models"))
    assert "authorization" not in get.headers  # the model list needs no key
    rows = json.loads(cli(capsys, "models", "--json")[1])["models"]
    mini = next(r for r in rows if r["model"] == "openai/gpt-4o-mini")
    assert (mini["price_source"], mini["input_per_mtok"], mini["context"]) == ("cache", 1.0, 64000)


def test_refresh_with_bad_payload_is_one_line(in_repo: Path, fake_llm: FakeLLM,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.models = None  # type: ignore[assignment]  # server answers {"data": null}
    rc, _, err = cli(capsys, "models", "refresh")
    assert rc == 1 and "unexpected shape" in err and err.count("\n") == 1
    assert not (in_repo / ".atlas" / "models-cache.json").exists()


def test_test_call_is_metered(in_repo: Path, fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.push(Reply("OK", cost=0.0002, model="openai/gpt-4o-mini"))
    rc, out, _ = cli(capsys, "models", "test", "openai/gpt-4o-mini", "--json")
    assert rc == 0
    row = json.loads(out)
    assert row["reply"] == "OK" and row["cost"] == 0.0002
    assert fake_llm.chat_requests()[0]["max_tokens"] == 16
    data = json.loads(cli(capsys, "budget", "--json")[1])
    assert data["windows"]["daily"]["spent"] == pytest.approx(0.0002)


def test_test_call_with_unpriced_model_under_budget(in_repo: Path, fake_llm: FakeLLM,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "budget", "set", "daily", "1")[0] == 0
    rc, _, err = cli(capsys, "models", "test", "nobody/knows")
    assert rc == 1 and "no known price" in err and "input_per_mtok" in err
    assert fake_llm.chat_requests() == []
