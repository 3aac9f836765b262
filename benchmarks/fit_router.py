"""Fit the semantic router's head and its trust thresholds on OUR exemplars.

    python benchmarks/fit_router.py            # fit, print the report, write the head
    python benchmarks/fit_router.py --check    # fit and report only

Data: ``atlas_git/data/router_exemplars.jsonl`` only. The labelled sets in
``tests/data/`` are never read here: they measure generalisation
(``benchmarks/route_accuracy.py``).

How the numbers are chosen (nothing is guessed):
1. every exemplar is embedded with the shipped encoder (the same backend
   routing uses); its words, bigrams and fired pattern rules (``rule:N``) form
   the sparse block;
2. the L2 strength and the weight of the bag-of-words block are picked by
   k-fold stratified cross-validation (intent + tier accuracy of out-of-fold
   predictions; each fold builds its vocabulary from its training part only).
   The encoder is fine-tuned on these exemplars, so each fold's features come
   from an encoder fine-tuned without that fold (``train_router.py`` writes
   them); otherwise every fold would look easier than new text is;
3. the intent and tier trust thresholds (the probability above which the
   semantic vote beats a matching pattern rule) are chosen on the same
   out-of-fold predictions: for each candidate threshold the chain's rule
   (decisive rule, else semantic if p >= t, else pattern if a rule fires,
   else semantic) is scored and the middle of the best-scoring range is kept.
   Only exemplars marked ``rules_unseen`` count here: they were written after
   the pattern rules were frozen, so the rules' accuracy on them is honest
   (on the older exemplars, which the rules were written against, the rules
   look better than they are on new text);
4. the pattern rules' precision on those exemplars becomes their reported
   confidence;
5. the head is refitted on all exemplars and saved with the exemplars' sha256.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_git.adapters.embeddings import encoder_sha256, get_backend
from atlas_git.core.router import head as headmod
from atlas_git.core.router import patterns, text
from atlas_git.core.router.decision import INTENTS, TIERS

L2_GRID = (3e-6, 1e-5, 3e-5)
BOW_GRID = (0.75, 1.0, 1.5)
THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.02), 2)
FOLDS = 5
SEED = 7
# Fired pattern rules as tokens of the head (5-fold CV on the exemplars the
# rules were not written against: intent 0.905 -> 0.915, tier 0.818 -> 0.828).
RULES = True
# Cross-fitted encoder embeddings, written by train_router.py (not shipped).
OOF_FILE = Path(__file__).resolve().parent / ".cache" / "router-oof.npz"


def folds(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Stratified fold assignment: every label spread over the k folds."""
    rng = np.random.default_rng(SEED)
    assign = np.zeros(len(labels), dtype=int)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        assign[idx] = np.arange(len(idx)) % k
    return [np.flatnonzero(assign == f) for f in range(k)]


def oof(xs: list[np.ndarray], texts: list[str], yi: np.ndarray, yt: np.ndarray, l2: float,
        scale: float, parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities for intent and tier.

    ``xs[k]`` embeds every exemplar with an encoder that never saw fold k
    (cross-fitted, from ``train_router.py``), so fold k's predictions are
    honest for the fine-tuned encoder too.
    """
    pi, pt = np.zeros((len(yi), len(INTENTS))), np.zeros((len(yt), len(TIERS)))
    for k, test in enumerate(parts):
        x = xs[k]
        train = np.setdiff1d(np.arange(len(yi)), test)
        vocab = headmod.build_vocab([texts[i] for i in train], RULES)
        index = {t: i for i, t in enumerate(vocab)}
        w_train = headmod.bag_of_words([texts[i] for i in train], index, scale, RULES)
        w_test = headmod.bag_of_words([texts[i] for i in test], index, scale, RULES)
        li = headmod.fit_softmax(x[train], w_train, len(vocab), yi[train], len(INTENTS), l2=l2)
        lt = headmod.fit_softmax(x[train], w_train, len(vocab), yt[train], len(TIERS), l2=l2)
        pi[test] = headmod.softmax(li.logits(x[test], w_test))
        pt[test] = headmod.softmax(lt.logits(x[test], w_test))
    return pi, pt


def cross_fitted(sha: str, n: int) -> list[np.ndarray] | None:
    """Fold embeddings from ``train_router.py`` for these exemplars, if present.

    Without them the calibration below uses the shipped encoder's embeddings,
    which is honest only for an encoder that was not fine-tuned on these
    exemplars: a warning says so.
    """
    path = OOF_FILE
    try:
        with np.load(path) as data:
            if str(data["exemplars_sha256"]) == sha:
                xs = [data[f"x{k}"].astype(np.float64) for k in range(int(data["folds"]))]
                if all(len(x) == n for x in xs):
                    print(f"calibrating on cross-fitted encoders from {path.name}")
                    return xs
    except (OSError, KeyError, ValueError):
        pass
    print(f"WARNING: no cross-fitted embeddings for these exemplars ({path}); run "
          "train_router.py first, or the thresholds below are optimistic for a fine-tuned encoder")
    return None


def best_threshold(probs: np.ndarray, y: np.ndarray, pattern: list[int | None],
                   decisive: list[bool] | None = None) -> tuple[float, float]:
    """The chain's rule scored per threshold; middle of the best plateau.

    Decisive (misleading-keyword) rules win regardless of the threshold, as in
    the router itself.
    """
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    decisive = decisive or [False] * len(y)
    scores = []
    for t in THRESHOLDS:
        chosen = [pat if (d and pat is not None) else p if (c >= t or pat is None) else pat
                  for p, c, pat, d in zip(pred, conf, pattern, decisive, strict=True)]
        scores.append(float(np.mean(np.array(chosen) == y)))
    top = max(scores)
    best = [t for t, s in zip(THRESHOLDS, scores, strict=True) if s >= top - 1e-9]
    return float(best[len(best) // 2]), top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only, do not write the head")
    args = parser.parse_args()
    rows = headmod.load_exemplars()
    sha = headmod.file_sha256(headmod.EXEMPLARS)
    backend = get_backend()
    if not backend.available:
        print(f"embedding backend unavailable: {backend.reason}")
        return 1
    started = time.perf_counter()
    texts = [text.clean(r["request"]).text for r in rows]
    x = backend.encode(texts).astype(np.float64)
    print(f"{len(rows)} exemplars embedded in {time.perf_counter() - started:.1f}s (sha {sha[:12]})")
    yi = np.array([INTENTS.index(r["intent"]) for r in rows])
    yt = np.array([TIERS.index(r["tier"]) for r in rows])
    pats = [patterns.classify(t) for t in texts]
    pat_i = [INTENTS.index(p.intent) if p.intent else None for p in pats]
    pat_t = [TIERS.index(p.tier) if p.tier else None for p in pats]
    xs = cross_fitted(sha, len(rows)) or [x] * FOLDS
    parts = folds(yi * 10 + yt, len(xs))

    print(f"\nhyper-parameters by {len(xs)}-fold CV (out-of-fold accuracy of the semantic head alone):")
    best = None
    for scale in BOW_GRID:
        for l2 in L2_GRID:
            pi, pt = oof(xs, texts, yi, yt, l2, scale, parts)
            ai, at = float(np.mean(pi.argmax(1) == yi)), float(np.mean(pt.argmax(1) == yt))
            print(f"  words x{scale:<4g} l2={l2:<7g} intent {ai:.3f}  tier {at:.3f}")
            if best is None or ai + at > best[0]:
                best = (ai + at, l2, scale, pi, pt)
    assert best is not None
    _, l2, scale, pi, pt = best
    calib = np.array([bool(r.get("rules_unseen")) for r in rows])
    if calib.sum() < 100:  # too few: fall back to every exemplar
        calib[:] = True
    print(f"\ncalibrating the chain on {int(calib.sum())} exemplars the rules were not written against")
    sel = np.flatnonzero(calib)
    ti, acc_i = best_threshold(pi[sel], yi[sel], [pat_i[i] for i in sel],
                               [pats[i].decisive for i in sel])
    tt, acc_t = best_threshold(pt[sel], yt[sel], [pat_t[i] for i in sel])
    pi_all, pt_all, yi_all, yt_all = pi, pt, yi, yt
    pi, pt, yi, yt = pi[sel], pt[sel], yi[sel], yt[sel]
    pat_i, pat_t, pats = [pat_i[i] for i in sel], [pat_t[i] for i in sel], [pats[i] for i in sel]
    fired = [(p, y) for p, y in zip(pat_i, yi, strict=True) if p is not None]
    precision = float(np.mean([p == y for p, y in fired])) if fired else 0.5
    dec = [(p, y) for p, y, r in zip(pat_i, yi, pats, strict=True) if r.decisive]
    fired_t = [(p, y) for p, y in zip(pat_t, yt, strict=True) if p is not None]
    print(f"\nchosen: words x{scale:g}, l2={l2:g}")
    print(f"intent trust threshold {ti:.2f}: chain accuracy {acc_i:.3f} out-of-fold "
          f"(semantic alone {np.mean(pi.argmax(1) == yi):.3f})")
    print(f"tier trust threshold   {tt:.2f}: chain accuracy {acc_t:.3f} out-of-fold "
          f"(semantic alone {np.mean(pt.argmax(1) == yt):.3f})")
    print(f"pattern intent rules fire on {len(fired)}/{len(yi)}, precision {precision:.3f}; "
          f"decisive rules fire on {len(dec)}, precision "
          f"{np.mean([p == y for p, y in dec]) if dec else 0:.3f}; tier rules fire on "
          f"{len(fired_t)}, precision {np.mean([p == y for p, y in fired_t]) if fired_t else 0:.3f}")
    print(f"(semantic alone on all exemplars: intent {np.mean(pi_all.argmax(1) == yi_all):.3f}, "
          f"tier {np.mean(pt_all.argmax(1) == yt_all):.3f})")
    head = headmod.fit_head(x, texts, rows, l2=l2, bow_scale=scale, intent_threshold=ti,
                            tier_threshold=tt, pattern_precision=round(precision, 3), sha=sha,
                            rules=RULES, encoder=encoder_sha256())
    if args.check:
        return 0
    headmod.SHIPPED_HEAD.write_bytes(head.to_bytes())
    print(f"wrote {headmod.SHIPPED_HEAD} ({headmod.SHIPPED_HEAD.stat().st_size} bytes, "
          f"{len(head.vocab)} words)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
