"""The hybrid routing chain: AI classifier -> semantic -> patterns -> default.

Every method votes (or abstains, with a reason) so ``--explain`` can show the
whole picture; the first method that is trusted decides. Trust thresholds for
the semantic classifier are fitted on data (``benchmarks/fit_router.py``);
the AI classifier's threshold is ``router.ai_confidence_threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from atlas_git.config import Config
from atlas_git.core.budget import budget_view
from atlas_git.core.pricing import estimate_cost, estimate_tokens
from atlas_git.core.router import context, patterns, text
from atlas_git.core.router.decision import INTENTS, TIERS, RoutingDecision, Vote
from atlas_git.core.router.select import select_model
from atlas_git.errors import UsageError


def _methods(config: Config) -> list[str]:
    methods = config.get("router.methods", ["ai", "semantic", "pattern", "default"])
    names = [str(m) for m in methods] if isinstance(methods, list) else []
    if not config.get("router.semantic", True):
        names = [m for m in names if m != "semantic"]
    return names


def _check_label(kind: str, value: str | None, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        raise UsageError(f"unknown {kind} {value!r}", hint=f"choose one of: {', '.join(allowed)}")


def _ai_vote(clean: text.CleanRequest, config: Config, repo: Path | None, offline: bool,
             enabled: bool) -> Vote:
    if not enabled:
        return Vote("ai", note="disabled in router.methods")
    from atlas_git.core.router import ai

    return ai.vote(clean.text, config=config, repo=repo, offline=offline)


def _semantic_vote(clean: text.CleanRequest, enabled: bool) -> tuple[Vote, float, float]:
    """The semantic vote plus its fitted (intent, tier) trust thresholds."""
    if not enabled:
        return Vote("semantic", note="disabled in config"), 1.0, 1.0
    from atlas_git.core.router import semantic

    return semantic.vote(clean.text)


def _pattern_vote(clean: text.CleanRequest) -> tuple[Vote, bool]:
    res = patterns.classify(clean.text)
    if res.intent is None and res.tier is None:
        return Vote("pattern", note="no rule matched"), False
    note = "a misleading-keyword rule decided the intent" if res.decisive else ""
    return Vote("pattern", res.intent, res.tier, res.intent_score, res.tier_score, note=note), res.decisive


def classify(clean: text.CleanRequest, *, config: Config, repo: Path | None, offline: bool,
             ) -> tuple[str, str, float, str, list[Vote]]:
    """Run the chain: (intent, tier, confidence, method, votes)."""
    methods = _methods(config)
    default_intent = str(config.get("settings.default_intent", "edit"))
    default_tier = str(config.get("settings.default_tier", "gold"))
    votes: list[Vote] = []
    if not clean.text:
        votes.append(Vote("default", default_intent, default_tier, accepted=True,
                          note="nothing left to classify"))
        return default_intent, default_tier, 0.3, "default", votes

    ai_vote = _ai_vote(clean, config, repo, offline, "ai" in methods)
    votes.append(ai_vote)
    if ai_vote.accepted and ai_vote.intent and ai_vote.tier:
        return ai_vote.intent, ai_vote.tier, float(ai_vote.intent_score or 0.0), "ai", votes

    sem, intent_threshold, tier_threshold = _semantic_vote(clean, "semantic" in methods)
    pat, decisive = (_pattern_vote(clean) if "pattern" in methods
                     else (Vote("pattern", note="disabled"), False))
    votes += [sem, pat]
    from atlas_git.core.router.semantic import pattern_confidence

    # Intent: semantic when it clears its fitted threshold, else a matching rule,
    # else semantic's best guess, else the configured default.
    if decisive and pat.intent:
        intent, confidence, method = pat.intent, pattern_confidence(), "pattern"
        if sem.intent:
            sem.note = f"overruled: {pat.intent} by a misleading-keyword rule"
    elif sem.intent and (sem.intent_score or 0.0) >= intent_threshold:
        intent, confidence, method = sem.intent, float(sem.intent_score or 0.0), "semantic"
        sem.note = sem.note or f"intent score {sem.intent_score:.2f} >= fitted {intent_threshold:.2f}"
    elif pat.intent:
        intent, confidence, method = pat.intent, pattern_confidence(), "pattern"
        if sem.intent:
            sem.note = sem.note or f"intent score {sem.intent_score:.2f} < fitted {intent_threshold:.2f}"
    elif sem.intent:
        intent, confidence, method = sem.intent, float(sem.intent_score or 0.0), "semantic"
        sem.note = sem.note or "below threshold, but no rule matched"
    else:
        intent, confidence, method = default_intent, 0.3, "default"
    # Tier, by the same rule with its own threshold.
    if sem.tier and (sem.tier_score or 0.0) >= tier_threshold:
        tier, tier_from = sem.tier, sem
    elif pat.tier:
        tier, tier_from = pat.tier, pat
    elif sem.tier:
        tier, tier_from = sem.tier, sem
    else:
        tier, tier_from = default_tier, None
    if tier_from is not None:
        why = (f"tier score {tier_from.tier_score:.2f}" if tier_from is sem
               else "tier rule matched")
        tier_from.note = "; ".join(n for n in (tier_from.note, f"tier from here ({why})") if n)
    if method == "semantic":
        sem.accepted = True
    elif method == "pattern":
        pat.accepted = True
    else:
        votes.append(Vote("default", default_intent, default_tier, accepted=True,
                          note="no method gave an answer"))
    return intent, tier, confidence, method, votes


def route(
    request: str,
    *,
    config: Config,
    repo: Path | None,
    files: Sequence[str] = (),
    staged_lines: int = 0,
    offline: bool = False,
    force_intent: str | None = None,
    force_tier: str | None = None,
    force_model: str | None = None,
    budget_override: bool = False,
) -> RoutingDecision:
    """Route ``request`` to an intent, a tier and a model (see module docstring)."""
    _check_label("intent", force_intent, INTENTS)
    _check_label("tier", force_tier, TIERS)
    clean = text.clean(request)
    notes = list(clean.notes)
    votes: list[Vote] = []
    forced = [f"{k} {v}" for k, v in (("intent", force_intent), ("tier", force_tier),
                                      ("model", force_model)) if v]
    model_tier = _tier_of_model(config, force_model) if force_model else None
    if force_intent and (force_tier or model_tier):
        intent, tier, confidence, method = force_intent, str(force_tier or model_tier), 1.0, "forced"
    else:
        intent, tier, confidence, method, votes = classify(
            clean, config=config, repo=repo, offline=offline)
        if force_intent:
            intent = force_intent
        if forced:
            method, confidence = "forced", 1.0
    file_ctx = context.measure_files(files, repo)
    if file_ctx.missing:
        notes.append(f"not on disk (size unknown): {', '.join(file_ctx.missing[:5])}")
    request_tokens = estimate_tokens(clean.text)
    staged_relevant = context.staged_matters(clean.text, intent)
    if force_tier or model_tier:
        tier = str(force_tier or model_tier)
    else:
        tier, moved = context.adjust_tier(tier, config=config, intent=intent,
                                          request_tokens=request_tokens, files=file_ctx,
                                          staged_lines=staged_lines, staged_relevant=staged_relevant)
        notes += moved
    prompt = context.prompt_tokens(request_tokens, file_ctx, staged_lines, staged_relevant)
    budget = budget_view(config, repo)
    if force_model:
        output = int(config.get(f"intents.{intent}.expected_output_tokens", 1000) or 1000)
        cost = estimate_cost(config, force_model, prompt, output)
        if cost is None:
            notes.append(f"no known price for {force_model}: cost unknown")
        model, alternatives = force_model, []
    else:
        min_tier = tier if force_tier else str(config.get(f"intents.{intent}.min_tier", "silver"))
        sel = select_model(config, tier=tier, intent=intent, prompt_tokens=prompt, budget=budget,
                           budget_override=budget_override, min_tier=min_tier)
        model, cost, alternatives, tier = sel.model, sel.estimated_cost, sel.alternatives, sel.tier
        notes += sel.notes
    reasoning = _reasoning(method, intent, tier, confidence, votes, forced, model, notes)
    return RoutingDecision(intent, tier, model, confidence, method, cost, reasoning,
                           alternatives, votes, notes)


def _tier_of_model(config: Config, model: str) -> str | None:
    for tier in TIERS:
        if model in (config.get(f"tiers.{tier}.models", []) or []):
            return tier
    return None


def _reasoning(method: str, intent: str, tier: str, confidence: float, votes: list[Vote],
               forced: list[str], model: str, notes: list[str]) -> str:
    if method == "forced":
        head = f"forced {', '.join(forced)}; classified {intent} at {tier}"
    else:
        head = f"{method} classified {intent} at {tier} (confidence {confidence:.2f})"
    skipped = [f"{v.method}: {v.note}" for v in votes if not v.accepted and v.note
               and v.method == "ai"]
    parts = [head, *skipped, f"model {model}", *notes]
    return "; ".join(p for p in parts if p)
