"""The semantic head: shipped, fitted on our exemplars, refitted when they change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.core.router import head as headmod
from atlas_git.core.router import semantic
from atlas_git.core.router.decision import INTENTS, TIERS


def test_shipped_head_matches_shipped_exemplars() -> None:
    head = headmod.Head.load(headmod.SHIPPED_HEAD)
    assert head.exemplars_sha256 == headmod.file_sha256(headmod.EXEMPLARS), \
        "exemplars changed: run python benchmarks/fit_router.py"
    assert head.intent.w.shape == (384, len(INTENTS)) and head.tier.w.shape == (384, len(TIERS))
    assert head.intent.ws.shape == (len(head.vocab), len(INTENTS)) and head.bow_scale > 0
    assert 0.0 <= head.intent_threshold <= 1.0 and 0.0 <= head.tier_threshold <= 1.0
    rows = headmod.load_exemplars()
    assert len(rows) >= 300
    assert {r["intent"] for r in rows} == set(INTENTS) and {r["tier"] for r in rows} == set(TIERS)


def test_changed_exemplars_are_reembedded_into_the_cache(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"request": r, "intent": i, "tier": t} for r, i, t in [
        ("fix the crash in the parser", "debug", "gold"),
        ("the app segfaults on start", "debug", "gold"),
        ("run black on the repo", "format", "silver"),
        ("fix the indentation", "format", "silver"),
        ("what does this function do", "explain", "silver"),
        ("explain the caching layer", "explain", "platinum"),
        ("split the monolith into services", "edit", "diamond"),
    ]]
    custom = tmp_path / "exemplars.jsonl"
    custom.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(headmod, "EXEMPLARS", custom)
    monkeypatch.setattr(semantic, "_HEAD", None)
    head = semantic.load_head()
    sha = headmod.file_sha256(custom)
    assert head.exemplars_sha256 == sha
    cached = semantic._cache_path(sha)
    assert cached.is_file()
    vote, _, _ = semantic.vote("please reformat this file with black")
    assert vote.intent == "format"
    # A second process finds the cached head instead of refitting.
    monkeypatch.setattr(semantic, "_HEAD", None)
    monkeypatch.setattr(semantic, "_refit", lambda *a: pytest.fail("refitted again"))
    assert semantic.load_head().exemplars_sha256 == sha


def test_broken_exemplar_file_disables_semantic_not_routing(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"request": "x", "intent": "nonsense", "tier": "gold"}\n')
    monkeypatch.setattr(headmod, "EXEMPLARS", bad)
    monkeypatch.setattr(semantic, "_HEAD", None)
    monkeypatch.setattr(semantic, "_HEAD_ERROR", "")
    vote, _, _ = semantic.vote("fix it")
    assert vote.intent is None and "unknown intent" in vote.note


def test_head_fitted_on_other_pattern_rules_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = headmod.Head.load(headmod.SHIPPED_HEAD)
    sha = headmod.file_sha256(headmod.EXEMPLARS)
    assert shipped.rules_sha256, "the shipped head uses the pattern rules as tokens"
    assert semantic._current(shipped, sha)
    monkeypatch.setattr(headmod, "rules_signature", lambda: "0" * 64)
    assert not semantic._current(shipped, sha)
    assert "rule:" in " ".join(headmod.tokens("Traceback (most recent call last):", rules=True))


def test_head_fitted_on_another_encoder_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas_git.adapters import embeddings

    shipped = headmod.Head.load(headmod.SHIPPED_HEAD)
    sha = headmod.file_sha256(headmod.EXEMPLARS)
    assert shipped.encoder_sha256 == embeddings.encoder_sha256(), \
        "encoder changed: run python benchmarks/fit_router.py"
    assert semantic._current(shipped, sha)
    monkeypatch.setattr(embeddings, "encoder_sha256", lambda: "f" * 64)
    assert not semantic._current(shipped, sha)
    # The refit cache is keyed by the encoder too, so another encoder never reuses it.
    assert semantic._cache_path(sha).name.endswith("-ffffffff.npz")
