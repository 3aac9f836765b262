"""Accuracy floors on the labelled sets (never used for fitting).

Floors sit below the measured figures (benchmarks/route_accuracy.py) so a
regression fails while normal noise does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.core.router import TIERS, route

DATA = Path(__file__).resolve().parent.parent / "data"
# (file, minimum rows, intent floor, tier-exact floor, within-one floor); measured
# 0.982/0.847/0.997 on dev and 0.961/0.823/0.996, 0.943/0.827/1.000 held out.
SETS = [("routing_dev.jsonl", 300, 0.95, 0.80, 0.97),
        ("routing_holdout.jsonl", 200, 0.92, 0.77, 0.97),
        ("routing_holdout2.jsonl", 250, 0.91, 0.77, 0.97)]


@pytest.mark.parametrize(("name", "min_rows", "intent_floor", "tier_floor", "near_floor"), SETS)
def test_offline_accuracy_floor(name: str, min_rows: int, intent_floor: float, tier_floor: float,
                                near_floor: float) -> None:
    path = DATA / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= min_rows
    config = load_config(None)
    intent_ok = tier_ok = near_ok = 0
    for row in rows:
        d = route(row["request"], config=config, repo=None, files=row.get("files") or (),
                  offline=True)
        intent_ok += d.intent == row["intent"]
        tier_ok += d.tier == row["tier"]
        near_ok += abs(TIERS.index(d.tier) - TIERS.index(row["tier"])) <= 1
    n = len(rows)
    assert intent_ok / n >= intent_floor, f"intent accuracy {intent_ok / n:.3f}"
    assert tier_ok / n >= tier_floor, f"tier exact {tier_ok / n:.3f}"
    assert near_ok / n >= near_floor, f"tier within one {near_ok / n:.3f}"
