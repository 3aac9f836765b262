"""Every provider call in atlas-git goes through :func:`complete`.

This is the seam where the budget ledger reserves worst-case cost before a
call, reconciles the actual cost after it, and records one row per HTTP
attempt (router classification, executor attempts, retries, reviews).
Until the ledger lands it simply calls the provider.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.adapters.llm import ChatResult, ProviderClient
from atlas_git.config import Config
from atlas_git.errors import AtlasError
from atlas_git.provider_settings import resolve


@dataclass
class CallContext:
    """Who is calling and why: what the ledger stores next to each call."""

    config: Config
    repo: Path | None
    command: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    intent: str | None = None
    tier: str | None = None
    method: str | None = None
    attempt: int = 1
    budget_override: bool = False


def llm_allowed(config: Config) -> bool:
    """False when the repo opted out (``settings.llm = false``)."""
    return bool(config.get("settings.llm", True))


def complete(
    ctx: CallContext,
    messages: Sequence[dict[str, str]],
    *,
    models: Sequence[str],
    max_tokens: int,
    response_schema: dict[str, Any] | None = None,
    schema_name: str = "reply",
    read_timeout: float | None = None,
    temperature: float = 0.0,
) -> ChatResult:
    """Make one metered chat call (trying ``models`` in order)."""
    if not llm_allowed(ctx.config):
        raise AtlasError("LLM calls are disabled for this repository (settings.llm = false)")
    client = ProviderClient(resolve(ctx.config))
    return client.chat(
        messages, models=models, max_tokens=max_tokens, temperature=temperature,
        response_schema=response_schema, schema_name=schema_name, read_timeout=read_timeout,
    )
