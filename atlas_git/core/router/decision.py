"""The router's vocabulary: labels, one method's vote, and the final decision."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

INTENTS: tuple[str, ...] = ("generate", "edit", "review", "debug", "optimize", "format", "explain")
TIERS: tuple[str, ...] = ("silver", "gold", "platinum", "diamond")
METHODS: tuple[str, ...] = ("ai", "semantic", "pattern", "default", "forced")


def tier_index(tier: str) -> int:
    """Position of ``tier`` on the silver..diamond scale (unknown tiers count as gold)."""
    return TIERS.index(tier) if tier in TIERS else 1


def clamp_tier(index: int) -> str:
    return TIERS[max(0, min(len(TIERS) - 1, index))]


@dataclass
class Vote:
    """What one classification method said, for ``--explain``.

    ``intent``/``tier`` are None when the method abstained; ``note`` says why
    (skipped, below threshold, provider error...).
    """

    method: str
    intent: str | None = None
    tier: str | None = None
    intent_score: float | None = None
    tier_score: float | None = None
    accepted: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RoutingDecision:
    """Where a request goes: intent, tier and model, with how and why.

    ``to_json()`` has exactly the keys of the CLI contract; ``votes`` and
    ``notes`` are extra detail for ``--explain``.
    """

    intent: str
    tier: str
    model: str
    confidence: float
    method: str
    estimated_cost: float | None
    reasoning: str
    alternatives: list[str] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The machine contract: the eight documented keys, nothing else."""
        return {
            "intent": self.intent,
            "tier": self.tier,
            "model": self.model,
            "confidence": round(float(self.confidence), 4),
            "method": self.method,
            "estimated_cost": (None if self.estimated_cost is None
                               else round(float(self.estimated_cost), 8)),
            "reasoning": self.reasoning,
            "alternatives": list(self.alternatives),
        }
