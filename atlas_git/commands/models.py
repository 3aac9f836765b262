"""``git atlas models``: prices by tier, ``refresh`` from the provider, ``test`` one metered call."""

from __future__ import annotations

import json
import time
from typing import Any

from atlas_git import ui
from atlas_git.config import Config, load_config
from atlas_git.errors import EXIT_OK, UsageError
from atlas_git.paths import find_repo


def _per_mtok(value: float | None) -> str:
    return "?" if value is None else f"{value * 1e6:,.2f}"


def model_rows(config: Config) -> list[dict[str, Any]]:
    """Every configured tier model with its price, source, context and quality."""
    from atlas_git.core.pricing import load_cache, price_source

    cache = load_cache(config)
    rows = []
    for tier in config.tiers():
        for model in config.get(f"tiers.{tier}.models", []) or []:
            price, source = price_source(config, model)
            info = config.model_info(model)
            context = info.get("context")
            if cache is not None and source == "cache":
                context = cache.models.get(model, {}).get("context", context)
            rows.append({"tier": tier, "model": model,
                         "input_per_mtok": None if price is None else round(price[0] * 1e6, 6),
                         "output_per_mtok": None if price is None else round(price[1] * 1e6, 6),
                         "price_source": source, "context": context, "quality": info.get("quality")})
    return rows


def list_models(as_json: bool) -> int:
    """Print the tiers' models with prices (USD per million tokens)."""
    from atlas_git.core.pricing import load_cache, stale_warning

    config = load_config(find_repo())
    rows = model_rows(config)
    cache = load_cache(config)
    if as_json:
        ui.out(json.dumps({"models": rows, "prices_fetched_at": cache.fetched_at if cache else None},
                          sort_keys=True))
        return EXIT_OK
    tier = None
    for row in rows:
        if row["tier"] != tier:
            tier = row["tier"]
            ui.out(ui.style(f"{tier}", "bold") + f"  {config.get(f'tiers.{tier}.description', '')}")
        price = (f"in ${row['input_per_mtok']:.2f} / out ${row['output_per_mtok']:.2f} per Mtok"
                 if row["input_per_mtok"] is not None else ui.style("no known price", "yellow"))
        ctx = f"{row['context']:,} ctx" if isinstance(row["context"], int) else ""
        ui.out(f"  {row['model']:<40} {price:<40} {ctx:>14}  [{row['price_source']}]")
    warning = stale_warning(config)
    if warning:
        ui.warn(warning)
    elif cache is None:
        ui.info("prices are the shipped defaults; `git atlas models refresh` fetches current ones")
    return EXIT_OK


def refresh() -> int:
    """Fetch ``GET {base_url}/models`` into the price cache."""
    from atlas_git.adapters.llm import ProviderClient
    from atlas_git.core.pricing import parse_models_payload, save_cache
    from atlas_git.provider_settings import resolve

    repo = find_repo()
    config = load_config(repo)
    if repo is not None:
        from atlas_git.paths import atlas_dir

        atlas_dir(repo)
    settings = resolve(config)
    payload = ProviderClient(settings).get_json("models", auth=False)
    models = parse_models_payload(payload, secret=settings.api_key)
    path = save_cache(config, settings.base_url, models)
    priced = sum(1 for m in models.values() if "input" in m)
    ui.out(f"{len(models)} models ({priced} priced) from {settings.base_url} cached in {path}")
    return EXIT_OK


def test_call(models: tuple[str, ...], count: int, max_tokens: int, as_json: bool,
              budget_override: bool) -> int:
    """Make up to ``count`` tiny metered calls (stops at the first refusal or failure)."""
    from atlas_git.core.calls import CallContext, complete

    if count < 1:
        raise UsageError("--count must be at least 1")
    if not models:
        raise UsageError("name at least one model")
    repo = find_repo()
    config = load_config(repo)
    messages = [{"role": "user", "content": "Reply with the single word OK."}]
    for _ in range(count):
        ctx = CallContext(config=config, repo=repo, command="models test", method="forced",
                          budget_override=budget_override)
        started = time.monotonic()
        result = complete(ctx, messages, models=list(models), max_tokens=max_tokens)
        row = {"request_id": ctx.request_id, "model": result.model_served, "tokens_in": result.tokens_in,
               "tokens_out": result.tokens_out, "cost": result.cost,
               "seconds": round(time.monotonic() - started, 3), "reply": result.content[:60]}
        if as_json:
            ui.out(json.dumps(row, sort_keys=True))
        else:
            cost = "cost unknown" if result.cost is None else f"${result.cost:.6f}"
            ui.out(f"{row['model']}: {row['reply']!r} ({row['tokens_in']}+{row['tokens_out']} tokens, "
                   f"{cost}, {row['seconds']}s)")
    return EXIT_OK
