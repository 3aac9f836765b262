"""The semantic classifier's fitted head: softmax regression on MiniLM embeddings.

Fitted by ``benchmarks/fit_router.py`` and shipped as ``data/router_head.npz``
next to the exemplars it was fitted on (``data/router_exemplars.jsonl``); the
head records the exemplars' sha256. When that file changes, the exemplars are
re-embedded and the head refitted once into the user cache (same code, same
hyper-parameters; the trust thresholds keep their shipped fitted values).
numpy only: no scikit-learn at run time.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_git.core.router.decision import INTENTS, TIERS

if TYPE_CHECKING:
    import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
EXEMPLARS = DATA_DIR / "router_exemplars.jsonl"
SHIPPED_HEAD = DATA_DIR / "router_head.npz"


@dataclass
class Head:
    """Weights for intent and tier, plus the fitted trust thresholds."""

    w_intent: np.ndarray
    b_intent: np.ndarray
    w_tier: np.ndarray
    b_tier: np.ndarray
    intent_threshold: float
    tier_threshold: float
    pattern_precision: float
    exemplars_sha256: str
    l2: float

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (intent, tier) for embeddings ``x`` (n, 384)."""
        return softmax(x @ self.w_intent + self.b_intent), softmax(x @ self.w_tier + self.b_tier)

    def to_bytes(self) -> bytes:
        import numpy as np

        buf = io.BytesIO()
        meta = {"intent_threshold": self.intent_threshold, "tier_threshold": self.tier_threshold,
                "pattern_precision": self.pattern_precision, "l2": self.l2,
                "exemplars_sha256": self.exemplars_sha256, "intents": INTENTS, "tiers": TIERS}
        np.savez(buf, w_intent=self.w_intent.astype(np.float32), b_intent=self.b_intent.astype(np.float32),
                 w_tier=self.w_tier.astype(np.float32), b_tier=self.b_tier.astype(np.float32),
                 meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
        return buf.getvalue()

    @classmethod
    def load(cls, path: Path) -> Head:
        import numpy as np

        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if list(meta["intents"]) != list(INTENTS) or list(meta["tiers"]) != list(TIERS):
                raise ValueError(f"{path}: labels differ from this version's taxonomy")
            return cls(data["w_intent"], data["b_intent"], data["w_tier"], data["b_tier"],
                       float(meta["intent_threshold"]), float(meta["tier_threshold"]),
                       float(meta["pattern_precision"]), str(meta["exemplars_sha256"]),
                       float(meta["l2"]))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_exemplars(path: Path | None = None) -> list[dict[str, Any]]:
    """Exemplars as dicts with request, intent, tier (bad lines name the line)."""
    path = path or EXEMPLARS
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("intent") not in INTENTS or row.get("tier") not in TIERS:
                raise ValueError(f"{path}:{number}: unknown intent or tier")
            rows.append(row)
    return rows


def softmax(z: np.ndarray) -> np.ndarray:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, *, l2: float,
                iters: int = 400, lr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced multinomial logistic regression by full-batch Adam.

    Balanced weights: rare labels (format, review) count as much as common
    ones, so the head does not learn the exemplar file's label frequencies.
    """
    import numpy as np

    n, d = x.shape
    onehot = np.eye(n_classes)[y]
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = (n / (n_classes * np.maximum(counts, 1)))[y][:, None]
    w = np.zeros((d, n_classes))
    b = np.zeros(n_classes)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, iters + 1):
        p = softmax(x @ w + b)
        g = weights * (p - onehot) / n
        grad_w = x.T @ g + l2 * w
        grad_b = g.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        c1, c2 = 1 - beta1**step, 1 - beta2**step
        w -= lr * (m_w / c1) / (np.sqrt(v_w / c2) + eps)
        b -= lr * (m_b / c1) / (np.sqrt(v_b / c2) + eps)
    return w, b


def fit_head(x: np.ndarray, rows: list[dict[str, Any]], *, l2: float, intent_threshold: float,
             tier_threshold: float, pattern_precision: float, sha: str) -> Head:
    """Fit both heads on all exemplars with the given hyper-parameters."""
    import numpy as np

    yi = np.array([INTENTS.index(r["intent"]) for r in rows])
    yt = np.array([TIERS.index(r["tier"]) for r in rows])
    wi, bi = fit_softmax(x, yi, len(INTENTS), l2=l2)
    wt, bt = fit_softmax(x, yt, len(TIERS), l2=l2)
    return Head(wi, bi, wt, bt, intent_threshold, tier_threshold, pattern_precision, sha, l2)
