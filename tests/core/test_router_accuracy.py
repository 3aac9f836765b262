"""Accuracy smoke test on the labelled dev set (never used for fitting).

Floors sit below the measured figures (benchmarks/route_accuracy.py) so a
regression fails while normal noise does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.core.router import TIERS, route

DEV = Path(__file__).resolve().parent.parent / "data" / "routing_dev.jsonl"


@pytest.mark.skipif(not DEV.is_file(), reason="tests/data/routing_dev.jsonl not present")
def test_offline_accuracy_on_dev_set() -> None:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 300
    config = load_config(None)
    intent_ok = tier_ok = near_ok = 0
    for row in rows:
        d = route(row["request"], config=config, repo=None, files=row.get("files") or (),
                  offline=True)
        intent_ok += d.intent == row["intent"]
        tier_ok += d.tier == row["tier"]
        near_ok += abs(TIERS.index(d.tier) - TIERS.index(row["tier"])) <= 1
    n = len(rows)
    assert intent_ok / n >= 0.90, f"intent accuracy {intent_ok / n:.3f}"
    assert tier_ok / n >= 0.72, f"tier exact {tier_ok / n:.3f}"
    assert near_ok / n >= 0.95, f"tier within one {near_ok / n:.3f}"
