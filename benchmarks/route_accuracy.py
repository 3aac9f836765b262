"""Offline routing accuracy on labelled JSON Lines files.

    python benchmarks/route_accuracy.py [FILE ...]
    (default: tests/data/routing_dev.jsonl, routing_holdout.jsonl, routing_holdout2.jsonl)

Each line: {"request", "intent", "tier", optional "files", optional "note"}.
Prints intent accuracy, tier exact and within-one accuracy, per-method
accuracy and share, and the intent confusion matrix. Runs with --offline
semantics (no provider). These files are never used for fitting.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_git.config import load_config
from atlas_git.core.router import INTENTS, TIERS, route

ROOT = Path(__file__).resolve().parent.parent
# dev: exemplar authors read its errors, so it flatters. The two held-out sets
# were written by people who never saw the exemplars or the router's output.
DEFAULT_FILES = [ROOT / "tests/data/routing_dev.jsonl", ROOT / "tests/data/routing_holdout.jsonl",
                 ROOT / "tests/data/routing_holdout2.jsonl"]


def evaluate(path: Path, *, show_errors: bool = False) -> dict[str, float]:
    """Route every row offline, print the report, return the three accuracies and n."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    config = load_config(None)
    intent_ok = tier_ok = near_ok = 0
    by_method: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: Counter[tuple[str, str]] = Counter()
    tier_confusion: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    for row in rows:
        d = route(row["request"], config=config, repo=None, files=row.get("files") or (), offline=True)
        ok = d.intent == row["intent"]
        intent_ok += ok
        tier_ok += d.tier == row["tier"]
        near_ok += abs(TIERS.index(d.tier) - TIERS.index(row["tier"])) <= 1
        by_method[d.method][0] += ok
        by_method[d.method][1] += 1
        confusion[(row["intent"], d.intent)] += 1
        tier_confusion[(row["tier"], d.tier)] += 1
        if show_errors and (not ok or d.tier != row["tier"]):
            print(f"  want {row['intent']}/{row['tier']} got {d.intent}/{d.tier} [{d.method}] "
                  f"{row['request'][:90]!r}")
    n = len(rows)
    elapsed = time.perf_counter() - started
    print(f"\n== {path} ({n} requests, {elapsed / max(n, 1) * 1000:.1f} ms/request)")
    print(f"intent accuracy   {intent_ok / n:.3f}  (target >= 0.95)")
    print(f"tier exact        {tier_ok / n:.3f}  (target >= 0.80)")
    print(f"tier within one   {near_ok / n:.3f}  (target >= 0.97)")
    print("per method:  method    share  intent-accuracy")
    for method, (good, total) in sorted(by_method.items()):
        print(f"             {method:<9} {total / n:5.2f}  {good / total:.3f}")
    print("intent confusion (rows = truth, columns = routed):")
    print("           " + " ".join(f"{i[:6]:>6}" for i in INTENTS))
    for truth in INTENTS:
        print(f"  {truth:<9}" + " ".join(f"{confusion[(truth, got)]:>6}" for got in INTENTS))
    print("tier confusion (rows = truth, columns = routed):")
    print("           " + " ".join(f"{t[:6]:>6}" for t in TIERS))
    for truth in TIERS:
        print(f"  {truth:<9}" + " ".join(f"{tier_confusion[(truth, got)]:>6}" for got in TIERS))
    return {"intent": intent_ok / n, "tier": tier_ok / n, "near": near_ok / n, "n": n}


def main(argv: list[str]) -> int:
    show = "--errors" in argv
    files = [Path(a) for a in argv if not a.startswith("--")] or DEFAULT_FILES
    held_out = []
    for path in files:
        if not path.is_file():
            print(f"skipping {path}: not found")
            continue
        result = evaluate(path, show_errors=show)
        if "holdout" in path.name:
            held_out.append(result)
    if len(held_out) > 1:
        n = sum(r["n"] for r in held_out)
        pooled = {k: sum(r[k] * r["n"] for r in held_out) / n for k in ("intent", "tier", "near")}
        print(f"\n== all held-out sets pooled ({int(n)} requests): intent {pooled['intent']:.3f}, "
              f"tier exact {pooled['tier']:.3f}, tier within one {pooled['near']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
