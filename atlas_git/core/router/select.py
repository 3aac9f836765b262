"""Pick the model within a tier: best value that fits the remaining budget.

value = (observed success rate, or a 0.8 prior) x quality / estimated cost.
Models with no known price are skipped (never treated as free). When nothing
in the tier fits, or the budget is at "critical", the tier drops one step at
a time (not below the intent's ``min_tier``) and the reasoning says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atlas_git.config import Config
from atlas_git.core.budget import BudgetView
from atlas_git.core.pricing import estimate_cost
from atlas_git.core.router.decision import TIERS, tier_index

SUCCESS_PRIOR = 0.8
DEFAULT_QUALITY = 0.5
_TIGHT_LEVELS = ("critical", "exceeded")


@dataclass
class Candidate:
    model: str
    cost: float
    value: float


@dataclass
class Selection:
    """The chosen model, its tier after any downgrade, and the fallbacks."""

    model: str
    tier: str
    estimated_cost: float | None
    alternatives: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def candidates(config: Config, tier: str, prompt_tokens: int, output_tokens: int,
               budget: BudgetView) -> tuple[list[Candidate], list[str]]:
    """Priced models of ``tier`` best value first, plus the ids skipped for no price."""
    found: list[Candidate] = []
    unpriced: list[str] = []
    models = config.get(f"tiers.{tier}.models", []) or []
    for model in models:
        cost = estimate_cost(config, str(model), prompt_tokens, output_tokens)
        if cost is None:
            unpriced.append(str(model))
            continue
        rate = budget.success_rate(str(model))
        quality = float(config.model_info(str(model)).get("quality", DEFAULT_QUALITY))
        success = SUCCESS_PRIOR if rate is None else rate
        value = success * quality / max(cost, 1e-9)
        found.append(Candidate(str(model), cost, value))
    # Stable: equal value keeps the configured (cheapest-first) order.
    found.sort(key=lambda c: -c.value)
    return found, unpriced


def select_model(config: Config, *, tier: str, intent: str, prompt_tokens: int,
                 budget: BudgetView, budget_override: bool = False,
                 min_tier: str = "silver") -> Selection:
    """Choose a model for ``tier`` within ``budget`` (see module docstring)."""
    output_tokens = int(config.get(f"intents.{intent}.expected_output_tokens", 1000) or 1000)
    notes: list[str] = []
    remaining = None if budget_override else budget.remaining()
    floor = tier_index(min_tier)
    current = tier_index(tier)
    if not budget_override:
        level = budget.warning_level()
        if level in _TIGHT_LEVELS and current > floor:
            notes.append(f"budget is {level}: downgraded {TIERS[current]} -> {TIERS[current - 1]}")
            current -= 1
    cheapest_seen: Selection | None = None
    while True:
        name = TIERS[current]
        found, unpriced = candidates(config, name, prompt_tokens, output_tokens, budget)
        if unpriced:
            notes.append(f"skipped models with unknown price in {name}: {', '.join(unpriced)}")
        fits = [c for c in found if remaining is None or c.cost <= remaining]
        if fits:
            best = fits[0]
            return Selection(best.model, name, best.cost, [c.model for c in fits[1:]], notes)
        if found:  # keep the lowest tier tried: the cheapest possible choice
            cheapest = min(found, key=lambda c: c.cost)
            cheapest_seen = Selection(cheapest.model, name, cheapest.cost,
                                   [c.model for c in found if c.model != cheapest.model], [])
        if current <= floor:
            break
        why = "no priced model" if not found else f"nothing fits the remaining ${remaining:.4f}"
        notes.append(f"{why} in {name}: downgraded to {TIERS[current - 1]}")
        current -= 1
    if cheapest_seen is not None:
        notes.append(f"no model fits the remaining budget (${remaining or 0:.4f}); "
                     f"the cheapest in {cheapest_seen.tier} would need ${cheapest_seen.estimated_cost:.4f}")
        cheapest_seen.notes = notes
        return cheapest_seen
    # No priced model anywhere on the way down: fall back to the configured first model.
    models = config.get(f"tiers.{tier}.models", []) or []
    model = str(models[0]) if models else ""
    notes.append("no model with a known price in any tier; cost unknown")
    return Selection(model, tier, None, [str(m) for m in models[1:]], notes)
