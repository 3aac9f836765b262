"""The hybrid router: ``route(request, config=..., repo=...) -> RoutingDecision``.

AI classifier -> semantic (MiniLM embeddings) -> patterns -> default, then the
context moves the tier and the budget picks the model. See ``engine``.
"""

from atlas_git.core.router.decision import INTENTS, TIERS, RoutingDecision, Vote
from atlas_git.core.router.engine import route

__all__ = ["INTENTS", "TIERS", "RoutingDecision", "Vote", "route"]
