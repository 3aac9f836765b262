"""The router's view of the budget (filled in by the ledger).

The router asks only three things: how much may still be spent, how close the
limits are, and how well a model has done. Until a ledger exists for the repo
there is no limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from atlas_git.config import Config


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


def budget_view(config: Config, repo: Path | None) -> BudgetView:
    """The budget view for ``repo``; the ledger issue replaces this body."""
    return UnlimitedBudget()
