"""Every provider call in atlas-git goes through :func:`complete`.

Metering, per model tried (the primary and every fallback):

1. before the first HTTP attempt, the model must have a known price when any
   limit is set, and its worst case (prompt estimate × input price +
   ``max_tokens`` × output price) is reserved atomically against every window
   and the per-request cap; a refusal skips to the next (cheaper?) model or fails;
2. every HTTP attempt (retries included) is recorded as one ledger row, with
   the provider's ``usage.cost`` when given, else the cost computed from prices;
   a timeout or garbled 200 may still be billed, so it is recorded at the
   worst case; an error status costs nothing;
3. the hold is released when the call is settled or fails.

If the ledger cannot be written, the call is not made.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_git.adapters.llm import CallRecord, ChatResult, ProviderClient, ProviderError
from atlas_git.config import Config
from atlas_git.core.pricing import estimate_tokens, model_price
from atlas_git.errors import AtlasError
from atlas_git.provider_settings import ProviderSettings, resolve

if TYPE_CHECKING:
    from atlas_git.core.ledger import Ledger, Limits
    from atlas_git.core.ledger.windows import WindowStarts

# Failures after which the provider may still have billed the generation.
_MAYBE_BILLED = frozenset({"timeout", "bad_response"})
_warned_stale = False


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


class UnpricedModel(ProviderError):
    """A model without a known price under a budget: refused before any HTTP."""

    def __init__(self, model: str) -> None:
        super().__init__(
            f"model {model!r} has no known price and a budget is set",
            kind="budget",
            hint=f'price it in .atlas/config.toml ([models."{model}"] input_per_mtok = ..., '
            "output_per_mtok = ...) or run `git atlas models refresh`",
        )


class BudgetRefused(ProviderError):
    """The budget refused this model; the client moves on to the next one."""

    def __init__(self, error: AtlasError) -> None:
        super().__init__(error.message, kind="budget", hint=error.hint)


def prompt_tokens(messages: Sequence[dict[str, str]], response_schema: dict[str, Any] | None) -> int:
    """A conservative prompt-size estimate (content + per-message overhead + schema)."""
    total = sum(estimate_tokens(str(m.get("content", ""))) + 8 for m in messages)
    if response_schema is not None:
        total += estimate_tokens(json.dumps(response_schema))
    return total


def worst_case(config: Config, model: str, tokens_in: int, max_tokens: int) -> float | None:
    """The most a call to ``model`` can cost; None when its price is unknown."""
    price = model_price(config, model)
    if price is None:
        return None
    return tokens_in * price[0] + max_tokens * price[1]


def _reservation_ttl(s: ProviderSettings) -> float:
    # Long enough for every retry of one model; a killed process's hold lapses after it.
    per_attempt = s.connect_timeout + s.read_timeout + min(s.max_retry_after, s.backoff_max * 4)
    return per_attempt * (s.max_retries + 1) + 60.0


class _Meter:
    """The before/after hooks that tie one :func:`complete` call to the ledger."""

    def __init__(self, ctx: CallContext, ledger: Ledger | None, limits: Limits, starts: WindowStarts,
                 tokens_in: int, max_tokens: int, ttl: float) -> None:
        self.ctx, self.ledger, self.limits, self.starts = ctx, ledger, limits, starts
        self.tokens_in, self.max_tokens, self.ttl = tokens_in, max_tokens, ttl
        self.hold: int | None = None
        self.model: str | None = None
        self.worst: float | None = None
        self.refusal: AtlasError | None = None

    def release(self) -> None:
        if self.hold is not None and self.ledger is not None:
            hold, self.hold = self.hold, None
            with contextlib.suppress(AtlasError):  # an unreleased hold lapses at its expiry
                self.ledger.release(hold)

    def before(self, model: str) -> None:
        from atlas_git.core.ledger import BudgetExceeded

        self.release()  # the previous model failed: its hold is no longer needed
        self.model = model
        self.worst = worst_case(self.ctx.config, model, self.tokens_in, self.max_tokens)
        if self.worst is None and self.limits.any():
            self.refusal = UnpricedModel(model)
            raise self.refusal
        if self.ledger is None:
            return
        try:
            self.hold = self.ledger.reserve(
                request_id=self.ctx.request_id, model=model, amount=self.worst or 0.0,
                limits=self.limits, starts=self.starts, ttl=self.ttl,
                override=self.ctx.budget_override,
            )
        except BudgetExceeded as exc:
            self.refusal = exc
            raise BudgetRefused(exc) from exc

    def _cost(self, record: CallRecord) -> tuple[float | None, str]:
        if record.cost is not None:
            return record.cost, "provider"
        if record.success:
            served = record.model_served or record.model_requested
            price = (model_price(self.ctx.config, served)
                     or model_price(self.ctx.config, record.model_requested))
            if price is None:
                return None, "unknown"
            return record.tokens_in * price[0] + record.tokens_out * price[1], "computed"
        if record.error_class in _MAYBE_BILLED and record.status in (None, 200):
            return self.worst, "assumed" if self.worst is not None else "unknown"
        return 0.0, "none"

    def after(self, record: CallRecord) -> None:
        from atlas_git.core.ledger import CallRow

        cost, source = self._cost(record)
        row = CallRow(
            request_id=self.ctx.request_id, model_requested=record.model_requested,
            model_served=record.model_served, success=record.success, cost=cost, cost_source=source,
            tokens_in=record.tokens_in, tokens_out=record.tokens_out, duration=record.duration,
            error_class=record.error_class, status=record.status, command=self.ctx.command,
            intent=self.ctx.intent, tier=self.ctx.tier, method=self.ctx.method, attempt=self.ctx.attempt,
            override=self.ctx.budget_override,
        )
        if self.ledger is None:
            return
        fits = self.ledger.record_call(row, reservation_id=self.hold, settle=record.success,
                                       recheck=(self.limits, self.starts))
        if record.success:
            self.hold = None
            from atlas_git.core import memory

            memory.append(self.ctx.repo, {
                "type": "call", "request_id": self.ctx.request_id, "command": self.ctx.command,
                "intent": self.ctx.intent, "tier": self.ctx.tier, "method": self.ctx.method,
                "model": record.model_served or record.model_requested, "cost": cost,
            })
        elif not fits:
            self.hold = None
            # A billed failure used up the room a retry would need: stop here.
            raise AtlasError("budget refused a retry: a failed attempt was billed and the "
                             "limit has no room left for another",
                             hint="see `git atlas budget`")


def _open_meter(ctx: CallContext, settings: ProviderSettings, tokens_in: int, max_tokens: int) -> _Meter:
    from atlas_git import ui
    from atlas_git.core.ledger import limits_from_config, open_ledger, state_disabled
    from atlas_git.core.ledger.windows import resolve_zone, window_starts
    from atlas_git.core.pricing import stale_warning

    global _warned_stale
    limits = limits_from_config(ctx.config)
    if state_disabled() and limits.any():
        raise AtlasError("a budget is set but ATLAS_DISABLE_STATE=1 turns the ledger off",
                         hint="unset ATLAS_DISABLE_STATE, or remove the limits")
    ledger = open_ledger(ctx.config, ctx.repo)  # raises with a recovery hint: no ledger, no call
    if ctx.budget_override and limits.any():
        ui.warn(f"--budget-override: limits not enforced for request {ctx.request_id} "
                "(recorded as an override in the ledger)")
    if not _warned_stale:
        _warned_stale = True
        warning = stale_warning(ctx.config)
        if warning:
            ui.warn(warning)
    zone = resolve_zone(str(ctx.config.get("settings.timezone", "local")))
    starts = window_starts(time.time(), zone)
    return _Meter(ctx, ledger, limits, starts, tokens_in, max_tokens, _reservation_ttl(settings))


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
    """Make one metered chat call (trying ``models`` in order).

    Raises :class:`AtlasError` when every model was refused by the budget or
    failed; the ledger has a row for every HTTP attempt either way.
    """
    if not llm_allowed(ctx.config):
        raise AtlasError("LLM calls are disabled for this repository (settings.llm = false)")
    settings = resolve(ctx.config)
    meter = _open_meter(ctx, settings, prompt_tokens(messages, response_schema), max_tokens)
    client = ProviderClient(settings)
    todo = list(models)
    try:
        while True:
            try:
                return client.chat(
                    messages, models=todo, max_tokens=max_tokens, temperature=temperature,
                    response_schema=response_schema, schema_name=schema_name,
                    read_timeout=read_timeout, before_call=meter.before, after_call=meter.after,
                )
            except (BudgetRefused, UnpricedModel):
                # A veto stops the client's loop; the models before the vetoed one
                # already failed, so carry on with the ones after it (each re-checked).
                assert meter.model is not None
                todo = todo[todo.index(meter.model) + 1:]
                if not todo:
                    raise meter.refusal or AtlasError("budget refused every model") from None
    finally:
        meter.release()
