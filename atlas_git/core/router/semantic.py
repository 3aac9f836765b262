"""Semantic classifier (placeholder until the embedding head lands)."""

from __future__ import annotations

from atlas_git.core.router.decision import Vote


def pattern_confidence() -> float:
    return 0.5


def vote(text: str) -> tuple[Vote, float, float]:
    return Vote("semantic", note="unavailable: not built yet"), 1.0, 1.0
