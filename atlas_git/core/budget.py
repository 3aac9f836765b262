"""The budget as the router and `git atlas budget` see it, read from the ledger.

The router asks only three things: how much may still be spent, how close the
limits are, and how well a model has done. With no limit configured there is
nothing to open and everything fits.

Warning levels (share of the most-used window): safe < 70 %, warning < 90 %,
critical >= 90 %, exceeded >= 100 % (thresholds: ``budget.warning_at`` and
``budget.critical_at``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from atlas_git.config import Config

if TYPE_CHECKING:
    from atlas_git.core.ledger.limits import Limits
    from atlas_git.core.ledger.store import Spend

# Observed rates are shrunk toward a prior so three lucky calls don't make a model perfect:
# (ok + PRIOR_WEIGHT * PRIOR_RATE) / (n + PRIOR_WEIGHT).
PRIOR_RATE = 0.8
PRIOR_WEIGHT = 4.0


class BudgetView(Protocol):
    def remaining(self) -> float | None:
        """The smallest amount left across all windows (USD); None = no limit."""

    def warning_level(self) -> str:
        """safe | warning | critical | exceeded."""

    def success_rate(self, model: str) -> float | None:
        """Observed success rate of ``model`` (None = no history)."""


class UnlimitedBudget:
    """No limits configured: everything fits."""

    def remaining(self) -> float | None:
        return None

    def warning_level(self) -> str:
        return "safe"

    def success_rate(self, model: str) -> float | None:
        return None


def level_for(fraction: float, warning_at: float = 0.7, critical_at: float = 0.9) -> str:
    """Map the used share of a limit to a warning level."""
    if fraction >= 1.0:
        return "exceeded"
    if fraction >= critical_at:
        return "critical"
    if fraction >= warning_at:
        return "warning"
    return "safe"


class LedgerBudget:
    """Limits from config, spend from ``.atlas/usage.db`` (opened lazily, read-only use)."""

    def __init__(self, config: Config, repo: Path | None, limits: Limits) -> None:
        self.config = config
        self.repo = repo
        self.limits = limits
        self._spend: Spend | None = None

    def _current(self) -> Spend:
        if self._spend is None:
            import time

            from atlas_git.core.ledger import open_ledger
            from atlas_git.core.ledger.store import Spend
            from atlas_git.core.ledger.windows import resolve_zone, window_starts

            ledger = open_ledger(self.config, self.repo, create=False)
            if ledger is None:
                self._spend = Spend({"daily": 0, "weekly": 0, "monthly": 0}, 0)
            else:
                now = time.time()
                zone = resolve_zone(str(self.config.get("settings.timezone", "local")))
                self._spend = ledger.spend(window_starts(now, zone), now)
        return self._spend

    def remaining(self) -> float | None:
        from atlas_git.core.ledger.store import to_usd

        if not self.limits.any():
            return None
        spend = self._current()
        left = [limit - to_usd(spend.windows[w] + spend.reserved)
                for w, limit in self.limits.windows().items()]
        if self.limits.request is not None:
            left.append(self.limits.request)
        return max(0.0, min(left))

    def fractions(self) -> dict[str, float]:
        """Used share of each window that has a limit."""
        from atlas_git.core.ledger.store import to_nusd

        spend = self._current()
        out: dict[str, float] = {}
        for window, limit in self.limits.windows().items():
            # Integer nano-USD: 0.09 of 0.10 is exactly 90 %, not 89.999... %.
            spent, cap = spend.windows[window], to_nusd(limit)
            out[window] = spent / cap if cap > 0 else 1.0
        return out

    def warning_level(self) -> str:
        from atlas_git.core.ledger.limits import budget_setting

        fractions = self.fractions() if self.limits.windows() else {}
        if not fractions:
            return "safe"
        return level_for(max(fractions.values()), budget_setting(self.config, "warning_at", 0.7),
                         budget_setting(self.config, "critical_at", 0.9))

    def success_rate(self, model: str) -> float | None:
        """How often ``model`` succeeds here, learnt from the ledger (None = never used).

        Apply/test outcomes recorded by the executor are the evidence when there
        are any; otherwise provider-call success is. Either is shrunk toward
        the prior (see ``PRIOR_RATE``) so a few samples move it only a little.
        """
        from atlas_git.core.ledger import open_ledger
        from atlas_git.errors import AtlasError

        try:
            ledger = open_ledger(self.config, self.repo, create=False)
            if ledger is None:
                return None
            calls, ok_calls, outcomes, ok_outcomes = ledger.model_rates(model)
        except AtlasError:
            # History is advice: a damaged ledger must not stop routing (limits still fail loudly).
            return None
        n, ok = (outcomes, ok_outcomes) if outcomes else (calls, ok_calls)
        if n == 0:
            return None
        return (ok + PRIOR_WEIGHT * PRIOR_RATE) / (n + PRIOR_WEIGHT)


def budget_view(config: Config, repo: Path | None) -> BudgetView:
    """The budget view for ``repo`` (unlimited when no limit is configured)."""
    from atlas_git.core.ledger import limits_from_config, state_disabled

    limits = limits_from_config(config)
    if state_disabled() and not limits.any():
        return UnlimitedBudget()
    return LedgerBudget(config, repo, limits)


def budget_status(config: Config, repo: Path | None) -> dict[str, Any]:
    """``git atlas budget --json``: windows, warning level, recommendations."""
    from atlas_git.core.ledger import limits_from_config
    from atlas_git.core.ledger.store import to_usd

    limits = limits_from_config(config)
    view = LedgerBudget(config, repo, limits)
    spend = view._current()
    windows: dict[str, Any] = {}
    for window in ("daily", "weekly", "monthly"):
        limit = getattr(limits, window)
        spent = to_usd(spend.windows[window])
        remaining = None if limit is None else max(0.0, limit - spent - to_usd(spend.reserved))
        windows[window] = {"limit": limit, "spent": round(spent, 6),
                           "remaining": None if remaining is None else round(remaining, 6)}
    level = view.warning_level()
    return {
        "windows": windows,
        "warning_level": level,
        "request_limit": limits.request,
        "reserved": round(to_usd(spend.reserved), 6),
        "timezone": str(config.get("settings.timezone", "local")),
        "recommendations": _recommendations(config, repo, level, view.fractions()),
    }


def _recommendations(config: Config, repo: Path | None, level: str, fractions: dict[str, float]) -> list[str]:
    from atlas_git.core import analytics

    recs: list[str] = []
    worst = max(fractions, key=lambda w: fractions[w]) if fractions else None
    if level == "exceeded":
        recs.append(f"{worst} limit reached: calls are refused until the window resets; "
                    "raise it with `git atlas budget set` or use --budget-override for one request")
    elif level == "critical":
        recs.append(f"{fractions[worst or 'daily']:.0%} of the {worst} limit used: requests are "
                    "downgraded to cheaper tiers")
    elif level == "warning":
        recs.append(f"{fractions[worst or 'daily']:.0%} of the {worst} limit used: watch usage "
                    "with `git atlas budget analytics`")
    if not fractions and not recs:
        recs.append("no spending limit set: `git atlas budget set daily 5` caps daily spend")
    recs.extend(analytics.model_recommendations(config, repo)[:2])
    return recs
