"""Model prices: USD per token, from config (the ledger adds a refreshed cache).

A model with no known price returns None: it is never treated as free.
"""

from __future__ import annotations

from atlas_git.config import Config


def model_price(config: Config, model: str) -> tuple[float, float] | None:
    """``(input_usd_per_token, output_usd_per_token)`` or None when unknown."""
    info = config.model_info(model)
    if "input_per_mtok" not in info or "output_per_mtok" not in info:
        return None
    return float(info["input_per_mtok"]) / 1e6, float(info["output_per_mtok"]) / 1e6


def estimate_cost(config: Config, model: str, prompt_tokens: int, output_tokens: int) -> float | None:
    """Cost of a call with these token counts; None when the price is unknown."""
    price = model_price(config, model)
    if price is None:
        return None
    return prompt_tokens * price[0] + output_tokens * price[1]


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token estimate (~3.5 chars per token for code)."""
    return max(1, int(len(text) / 3.5) + 1)
