"""Model prices: USD per token.

Where a price comes from, first found wins:

1. a price the user set in their config or ``.atlas/config.toml``
   (``[models."id"] input_per_mtok/output_per_mtok``) that differs from the
   shipped default: the user's word beats everything;
2. the cache written by ``git atlas models refresh`` (the provider's live list,
   used only for the base URL it was fetched from);
3. the shipped defaults in ``config/models.toml`` (list prices when written).

A model with no known price returns None: it is never treated as free. A
cache older than ``budget.price_max_age_days`` makes :func:`stale_warning`
speak.
"""

from __future__ import annotations

import json
import math
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.config import Config

CACHE_NAME = "models-cache.json"
DEFAULT_MAX_AGE_DAYS = 7.0


@dataclass
class PriceCache:
    """Prices fetched from ``GET {base_url}/models``."""

    fetched_at: float
    base_url: str
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def age_days(self, now: float | None = None) -> float:
        return max(0.0, ((now or time.time()) - self.fetched_at) / 86400)


_cache_memo: dict[Path, tuple[float, PriceCache | None]] = {}
_shipped: dict[str, Any] | None = None


def cache_path(config: Config) -> Path:
    """``.atlas/models-cache.json`` in a repo, else the user cache dir."""
    if config.repo is not None:
        return config.repo / ".atlas" / CACHE_NAME
    from atlas_git.paths import user_cache_dir

    return user_cache_dir() / CACHE_NAME


def load_cache(config: Config) -> PriceCache | None:
    """The refreshed price list, or None (missing or unreadable: never fatal)."""
    path = cache_path(config)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    memo = _cache_memo.get(path)
    if memo is not None and memo[0] == mtime:
        return memo[1]
    cache: PriceCache | None = None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            cache = PriceCache(float(data.get("fetched_at", 0)), str(data.get("base_url", "")),
                               data["models"])
    except (OSError, ValueError, TypeError):
        cache = None
    _cache_memo[path] = (mtime, cache)
    return cache


def parse_models_payload(payload: Any, secret: str | None = None) -> dict[str, dict[str, Any]]:
    """OpenRouter ``{"data": [{id, pricing: {prompt, completion}, context_length}]}`` → prices.

    Prices are USD-per-token strings; negative ("variable") or missing prices
    leave the model without a price rather than making it free. Any text
    containing ``secret`` (the API key, echoed by a misbehaving server) is dropped.
    """
    rows = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        from atlas_git.errors import AtlasError

        raise AtlasError("the provider's model list has an unexpected shape (no data[])")
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            continue
        if secret and secret in row["id"]:
            continue
        entry: dict[str, Any] = {}
        raw = row.get("pricing")
        pricing: dict[str, Any] = raw if isinstance(raw, dict) else {}
        try:
            prompt = float(pricing["prompt"])
            completion = float(pricing["completion"])
        except (KeyError, TypeError, ValueError):
            prompt = completion = -1.0
        if math.isfinite(prompt) and math.isfinite(completion) and prompt >= 0 and completion >= 0:
            entry["input"] = prompt
            entry["output"] = completion
        if isinstance(row.get("context_length"), int):
            entry["context"] = row["context_length"]
        if isinstance(row.get("name"), str) and not (secret and secret in row["name"]):
            entry["name"] = row["name"][:100]
        out[row["id"]] = entry
    return out


def save_cache(config: Config, base_url: str, models: dict[str, dict[str, Any]]) -> Path:
    """Write the cache atomically (temp file + rename) with a timestamp."""
    path = cache_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"fetched_at": time.time(), "base_url": base_url, "models": models},
                              indent=0, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _shipped_models() -> dict[str, Any]:
    global _shipped
    if _shipped is None:
        from atlas_git.config import defaults_dir

        with (defaults_dir() / "models.toml").open("rb") as fh:
            models = tomllib.load(fh).get("models", {})
        _shipped = models if isinstance(models, dict) else {}
    return _shipped


def _config_price(info: dict[str, Any]) -> tuple[float, float] | None:
    if "input_per_mtok" not in info or "output_per_mtok" not in info:
        return None
    return float(info["input_per_mtok"]) / 1e6, float(info["output_per_mtok"]) / 1e6


def price_source(config: Config, model: str) -> tuple[tuple[float, float] | None, str]:
    """``(price, source)`` where source is user | cache | defaults | unknown."""
    configured = _config_price(config.model_info(model))
    shipped_info = _shipped_models().get(model)
    shipped = _config_price(shipped_info) if isinstance(shipped_info, dict) else None
    if configured is not None and configured != shipped:
        return configured, "user"
    cache = load_cache(config)
    if cache is not None and cache.base_url == str(config.get("provider.base_url", "")).rstrip("/"):
        entry = cache.models.get(model)
        if isinstance(entry, dict) and "input" in entry and "output" in entry:
            return (float(entry["input"]), float(entry["output"])), "cache"
    if configured is not None:
        return configured, "defaults"
    return None, "unknown"


def model_price(config: Config, model: str) -> tuple[float, float] | None:
    """``(input_usd_per_token, output_usd_per_token)`` or None when unknown."""
    return price_source(config, model)[0]


def estimate_cost(config: Config, model: str, prompt_tokens: int, output_tokens: int) -> float | None:
    """Cost of a call with these token counts; None when the price is unknown."""
    price = model_price(config, model)
    if price is None:
        return None
    return prompt_tokens * price[0] + output_tokens * price[1]


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token estimate (~3.5 chars per token for code)."""
    return max(1, int(len(text) / 3.5) + 1)


def stale_warning(config: Config, now: float | None = None) -> str | None:
    """A one-line warning when the refreshed prices are older than allowed."""
    cache = load_cache(config)
    if cache is None:
        return None
    raw = config.get("budget.price_max_age_days", DEFAULT_MAX_AGE_DAYS)
    numeric = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    max_age = float(raw) if numeric else DEFAULT_MAX_AGE_DAYS
    age = cache.age_days(now)
    if age <= max_age:
        return None
    return (f"model prices were refreshed {age:.0f} days ago (limit {max_age:g}); "
            "run `git atlas models refresh`")
