"""The semantic classifier's fitted head: softmax regression on the MiniLM
embedding plus a sparse bag of words (unigrams and bigrams of the request).

The embedding carries meaning across wording and languages; the words carry
the task's key terms ("review", "slow", "prettier") that mean-pooled
embeddings blur. Each pattern rule that fires on the request (``patterns``)
joins the bag as one more token (``rule:N``), so the head learns from data how
far to trust each rule instead of the rules' hand-set weights deciding.
All of it feeds one linear model per axis (intent, tier).

Fitted by ``benchmarks/fit_router.py`` on our own exemplars
(``data/router_exemplars.jsonl``) and shipped as ``data/router_head.npz``
with the exemplars' sha256. When that file changes, the exemplars are
re-embedded and the head refitted once into the user cache (same code, same
hyper-parameters; the trust thresholds keep their shipped fitted values).
numpy only: no scikit-learn at run time.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_git.core.router.decision import INTENTS, TIERS

if TYPE_CHECKING:
    import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
EXEMPLARS = DATA_DIR / "router_exemplars.jsonl"
SHIPPED_HEAD = DATA_DIR / "router_head.npz"
_WORD = re.compile(r"[a-z][a-z0-9_+#]*|\d+")


def tokens(text: str, rules: bool = False) -> list[str]:
    """Lower-cased words and adjacent word pairs (plus fired rules' tokens)."""
    words = _WORD.findall(text.lower())
    out = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    if rules:
        from atlas_git.core.router import patterns

        out += [f"rule:{i}" for i, hit in enumerate(patterns.features(text)) if hit]
    return out


def rules_signature() -> str:
    """A hash of the pattern rules: a head fitted on other rules is stale."""
    from atlas_git.core.router import patterns

    return hashlib.sha256(patterns.signature().encode()).hexdigest()


@dataclass
class Sparse:
    """A sparse (rows x vocab) matrix as coordinate arrays."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    n_rows: int


def bag_of_words(texts: list[str], vocab: dict[str, int], scale: float,
                 rules: bool = False) -> Sparse:
    """Binary word/bigram presence, L2-normalised per text, times ``scale``."""
    import numpy as np

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, text in enumerate(texts):
        present = sorted({vocab[t] for t in tokens(text, rules) if t in vocab})
        if not present:
            continue
        weight = scale / len(present) ** 0.5
        rows += [i] * len(present)
        cols += present
        vals += [weight] * len(present)
    return Sparse(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                  np.asarray(vals, dtype=np.float64), len(texts))


def _sparse_dot(s: Sparse, w: np.ndarray) -> np.ndarray:
    """``S @ w`` for coordinate arrays sorted by row (as bag_of_words makes them)."""
    import numpy as np

    out = np.zeros((s.n_rows, w.shape[1]))
    if len(s.rows):
        starts = np.flatnonzero(np.r_[True, s.rows[1:] != s.rows[:-1]])
        out[s.rows[starts]] = np.add.reduceat(w[s.cols] * s.vals[:, None], starts, axis=0)
    return out


def _sparse_t_dot(s: Sparse, g: np.ndarray, n_vocab: int,
                  order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``S.T @ g`` using a precomputed column ordering."""
    import numpy as np

    out = np.zeros((n_vocab, g.shape[1]))
    if len(order):
        contrib = g[s.rows[order]] * s.vals[order][:, None]
        out[s.cols[order][starts]] = np.add.reduceat(contrib, starts, axis=0)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass
class Linear:
    """One softmax layer: dense weights, sparse-word weights, bias."""

    w: np.ndarray
    ws: np.ndarray
    b: np.ndarray

    def logits(self, x: np.ndarray, words: Sparse) -> np.ndarray:
        out: np.ndarray = x @ self.w + _sparse_dot(words, self.ws) + self.b
        return out


def fit_softmax(x: np.ndarray, words: Sparse, n_vocab: int, y: np.ndarray, n_classes: int, *,
                l2: float, iters: int = 400, lr: float = 0.5) -> Linear:
    """Class-balanced multinomial logistic regression by full-batch Adam.

    Balanced weights: rare labels (format, review) count as much as common
    ones, so the head does not learn the exemplar file's label frequencies.
    """
    import numpy as np

    n, d = x.shape
    onehot = np.eye(n_classes)[y]
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    sample_w = (n / (n_classes * np.maximum(counts, 1)))[y][:, None]
    params = [np.zeros((d, n_classes)), np.zeros((n_vocab, n_classes)), np.zeros(n_classes)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    order = np.argsort(words.cols, kind="stable")
    sorted_cols = words.cols[order]
    starts = (np.flatnonzero(np.r_[True, sorted_cols[1:] != sorted_cols[:-1]])
              if len(order) else np.zeros(0, dtype=np.int64))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, iters + 1):
        w, ws, b = params
        p = softmax(x @ w + _sparse_dot(words, ws) + b)
        g = sample_w * (p - onehot) / n
        grad_ws = _sparse_t_dot(words, g, n_vocab, order, starts)
        grads = [x.T @ g + l2 * w, grad_ws + l2 * ws, g.sum(axis=0)]
        c1, c2 = 1 - beta1**step, 1 - beta2**step
        for param, grad, (m, v) in zip(params, grads, moments, strict=True):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad**2
            param -= lr * (m / c1) / (np.sqrt(v / c2) + eps)
    return Linear(params[0], params[1], params[2])


@dataclass
class Head:
    """Both layers, the vocabulary, and the fitted trust thresholds."""

    intent: Linear
    tier: Linear
    vocab: list[str]
    bow_scale: float
    intent_threshold: float
    tier_threshold: float
    pattern_precision: float
    exemplars_sha256: str
    l2: float
    rules_sha256: str = ""  # empty: the head has no rule tokens
    encoder_sha256: str = ""  # the sentence encoder whose embeddings it was fitted on
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {t: i for i, t in enumerate(self.vocab)}

    def words(self, texts: list[str]) -> Sparse:
        return bag_of_words(texts, self._index, self.bow_scale, bool(self.rules_sha256))

    def predict(self, x: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (intent, tier) for embeddings ``x`` of ``texts``."""
        if len(texts) == 1:
            return self._predict_one(x, texts[0])
        words = self.words(texts)
        return softmax(self.intent.logits(x, words)), softmax(self.tier.logits(x, words))

    def _predict_one(self, x: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The routing hot path: one request, no sparse bookkeeping."""
        present = list({self._index[t] for t in tokens(text, bool(self.rules_sha256))
                        if t in self._index})
        weight = self.bow_scale / len(present) ** 0.5 if present else 0.0
        out = []
        for layer in (self.intent, self.tier):
            z = x @ layer.w + layer.b
            if present:
                z = z + weight * layer.ws[present].sum(axis=0)
            out.append(softmax(z))
        return out[0], out[1]

    def to_bytes(self) -> bytes:
        import numpy as np

        buf = io.BytesIO()
        meta = {"intent_threshold": self.intent_threshold, "tier_threshold": self.tier_threshold,
                "pattern_precision": self.pattern_precision, "l2": self.l2,
                "bow_scale": self.bow_scale, "vocab": self.vocab,
                "exemplars_sha256": self.exemplars_sha256, "rules_sha256": self.rules_sha256,
                "encoder_sha256": self.encoder_sha256,
                "intents": INTENTS, "tiers": TIERS}
        arrays = {f"{name}_{part}": getattr(getattr(self, name), part).astype(np.float32)
                  for name in ("intent", "tier") for part in ("w", "ws", "b")}
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def load(cls, path: Path) -> Head:
        import numpy as np

        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if list(meta["intents"]) != list(INTENTS) or list(meta["tiers"]) != list(TIERS):
                raise ValueError(f"{path}: labels differ from this version's taxonomy")
            layers = [Linear(data[f"{n}_w"], data[f"{n}_ws"], data[f"{n}_b"])
                      for n in ("intent", "tier")]
        return cls(layers[0], layers[1], list(meta["vocab"]), float(meta["bow_scale"]),
                   float(meta["intent_threshold"]), float(meta["tier_threshold"]),
                   float(meta["pattern_precision"]), str(meta["exemplars_sha256"]),
                   float(meta["l2"]), str(meta.get("rules_sha256", "")),
                   str(meta.get("encoder_sha256", "")))


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


def build_vocab(texts: list[str], rules: bool = False) -> list[str]:
    """Every word and bigram (and fired rule) seen in the exemplars, first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        for tok in tokens(text, rules):
            seen.setdefault(tok, None)
    return list(seen)


def fit_head(x: np.ndarray, texts: list[str], rows: list[dict[str, Any]], *, l2: float,
             bow_scale: float, intent_threshold: float, tier_threshold: float,
             pattern_precision: float, sha: str, rules: bool = True, encoder: str = "") -> Head:
    """Fit both layers on all exemplars with the given hyper-parameters."""
    import numpy as np

    vocab = build_vocab(texts, rules)
    head = Head(Linear(np.zeros(0), np.zeros(0), np.zeros(0)),
                Linear(np.zeros(0), np.zeros(0), np.zeros(0)), vocab, bow_scale,
                intent_threshold, tier_threshold, pattern_precision, sha, l2,
                rules_signature() if rules else "", encoder)
    words = head.words(texts)
    yi = np.array([INTENTS.index(r["intent"]) for r in rows])
    yt = np.array([TIERS.index(r["tier"]) for r in rows])
    head.intent = fit_softmax(x, words, len(vocab), yi, len(INTENTS), l2=l2)
    head.tier = fit_softmax(x, words, len(vocab), yt, len(TIERS), l2=l2)
    return head
