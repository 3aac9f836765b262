from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.core.pricing import (
    cache_path,
    estimate_cost,
    model_price,
    parse_models_payload,
    price_source,
    save_cache,
    stale_warning,
)
from atlas_git.errors import AtlasError

PAYLOAD = {"data": [
    {"id": "openai/gpt-4o-mini", "pricing": {"prompt": "0.0000002", "completion": "0.000001"},
     "context_length": 128000},
    {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}},
    {"id": "free/model", "pricing": {"prompt": "0", "completion": "0"}, "context_length": 8192},
    {"id": "broken/model", "pricing": {"prompt": "abc"}},
    "garbage",
]}


def test_parse_keeps_real_prices_and_never_invents_free_ones() -> None:
    models = parse_models_payload(PAYLOAD)
    assert models["openai/gpt-4o-mini"] == {"input": 2e-7, "output": 1e-6, "context": 128000}
    assert "input" not in models["openrouter/auto"]  # variable price: unknown, not free
    assert "input" not in models["broken/model"]
    assert models["free/model"]["input"] == 0.0
    with pytest.raises(AtlasError, match="unexpected shape"):
        parse_models_payload({"models": []})


def test_cache_beats_shipped_defaults_but_not_user_prices(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    config = load_config(repo)
    assert price_source(config, "openai/gpt-4o-mini")[1] == "defaults"
    save_cache(config, str(config.get("provider.base_url")), parse_models_payload(PAYLOAD))
    assert price_source(config, "openai/gpt-4o-mini") == ((2e-7, 1e-6), "cache")
    assert model_price(config, "openrouter/auto") is None
    assert estimate_cost(config, "openai/gpt-4o-mini", 1000, 100) == pytest.approx(2e-4 + 1e-4)
    (repo / ".atlas" / "config.toml").write_text(
        '[models."openai/gpt-4o-mini"]\ninput_per_mtok = 9.0\noutput_per_mtok = 9.0\n')
    assert price_source(load_config(repo), "openai/gpt-4o-mini") == ((9e-6, 9e-6), "user")


def test_cache_for_another_base_url_is_ignored(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    config = load_config(repo)
    save_cache(config, "https://elsewhere.example/v1", parse_models_payload(PAYLOAD))
    assert price_source(config, "openai/gpt-4o-mini")[1] == "defaults"
    assert model_price(config, "free/model") is None


def test_stale_cache_warns(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    config = load_config(repo)
    assert stale_warning(config) is None  # no cache: nothing stale
    path = save_cache(config, str(config.get("provider.base_url")), {})
    assert stale_warning(config) is None
    data = json.loads(path.read_text())
    data["fetched_at"] = time.time() - 30 * 86400
    path.write_text(json.dumps(data))
    os.utime(path, (time.time() + 1, time.time() + 1))
    warning = stale_warning(config)
    assert warning is not None and "30 days ago" in warning and "models refresh" in warning
    assert cache_path(config) == path


def test_corrupt_cache_is_ignored(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    config = load_config(repo)
    cache_path(config).write_text("{not json")
    assert price_source(config, "openai/gpt-4o-mini")[1] == "defaults"
