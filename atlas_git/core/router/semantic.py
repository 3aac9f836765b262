"""Semantic classifier: MiniLM embedding (+ words) of the request -> fitted head.

The head (``head.py``) is fitted on our own labelled exemplars; its trust
thresholds come from cross-validation (``benchmarks/fit_router.py``). When
the embedding backend is unavailable the vote abstains with the reason and
the chain falls through to the pattern rules.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from atlas_git.core.router import head as headmod
from atlas_git.core.router.decision import INTENTS, TIERS, Vote

_HEAD: headmod.Head | None = None
_HEAD_ERROR = ""
_DEFAULT_PATTERN_PRECISION = 0.5


def _cache_path(sha: str) -> Path:
    from atlas_git.adapters.embeddings import encoder_sha256
    from atlas_git.paths import user_cache_dir

    rules = headmod.rules_signature()[:8]
    return user_cache_dir() / "router" / f"head-{sha[:16]}-{rules}-{encoder_sha256()[:8]}.npz"


def _current(head: headmod.Head, sha: str) -> bool:
    """Fitted on these exemplars, this encoder and (when it uses them) these rules."""
    from atlas_git.adapters.embeddings import encoder_sha256

    return (head.exemplars_sha256 == sha and head.encoder_sha256 == encoder_sha256() and (
        not head.rules_sha256 or head.rules_sha256 == headmod.rules_signature()))


def _refit(sha: str, shipped: headmod.Head | None) -> headmod.Head:
    """Re-embed a changed exemplar file and refit the head into the user cache."""
    import numpy as np

    from atlas_git.adapters.embeddings import _atomic_write, encoder_sha256, get_backend
    from atlas_git.core.router import text

    backend = get_backend()
    rows = headmod.load_exemplars()
    texts = [text.clean(r["request"]).text for r in rows]
    x = backend.encode(texts).astype(np.float64)
    head = headmod.fit_head(
        x, texts, rows, l2=shipped.l2 if shipped else 3e-4,
        bow_scale=shipped.bow_scale if shipped else 1.0,
        intent_threshold=shipped.intent_threshold if shipped else 0.7,
        tier_threshold=shipped.tier_threshold if shipped else 0.7,
        pattern_precision=shipped.pattern_precision if shipped else _DEFAULT_PATTERN_PRECISION,
        sha=sha, rules=shipped.rules_sha256 != "" if shipped else True, encoder=encoder_sha256())
    with contextlib.suppress(OSError):
        _atomic_write(_cache_path(sha), head.to_bytes())
    return head


def load_head() -> headmod.Head:
    """The head for the current exemplar file (shipped, cached, or refitted)."""
    global _HEAD
    if _HEAD is not None:
        return _HEAD
    sha = headmod.file_sha256(headmod.EXEMPLARS)
    shipped: headmod.Head | None = None
    with contextlib.suppress(OSError, ValueError, KeyError):
        shipped = headmod.Head.load(headmod.SHIPPED_HEAD)
    if shipped is not None and _current(shipped, sha):
        _HEAD = shipped
        return _HEAD
    cached = _cache_path(sha)
    with contextlib.suppress(OSError, ValueError, KeyError):
        head = headmod.Head.load(cached)
        if _current(head, sha):
            _HEAD = head
            return _HEAD
    _HEAD = _refit(sha, shipped)
    return _HEAD


def pattern_confidence() -> float:
    """The pattern rules' measured precision (their reported confidence)."""
    return _HEAD.pattern_precision if _HEAD is not None else _DEFAULT_PATTERN_PRECISION


def vote(request: str) -> tuple[Vote, float, float]:
    """(vote, intent threshold, tier threshold); an abstaining vote when unavailable."""
    global _HEAD_ERROR
    from atlas_git.adapters.embeddings import get_backend

    backend = get_backend()
    if not backend.available:
        return Vote("semantic", note=f"unavailable: {backend.reason}"), 1.0, 1.0
    if _HEAD_ERROR:
        return Vote("semantic", note=_HEAD_ERROR), 1.0, 1.0
    try:
        head = load_head()
    except Exception as exc:  # a bad exemplar file must not break routing
        _HEAD_ERROR = f"unavailable: router head: {type(exc).__name__}: {exc}"[:200]
        return Vote("semantic", note=_HEAD_ERROR), 1.0, 1.0
    x = backend.encode([request])
    p_intent, p_tier = head.predict(x, [request])
    i, t = int(p_intent[0].argmax()), int(p_tier[0].argmax())
    vote = Vote("semantic", INTENTS[i], TIERS[t], float(p_intent[0, i]), float(p_tier[0, t]))
    return vote, head.intent_threshold, head.tier_threshold
