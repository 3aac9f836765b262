"""Sentence embeddings: the router's encoder as int8 ONNX, through onnxruntime.

No torch. The encoder is all-MiniLM-L6-v2 fine-tuned on the router's
exemplars (``benchmarks/train_router.py``), exported with the stock model's
inputs and outputs and shipped as ``atlas_git/data/router-encoder.onnx``; its
sha256 is in ``router-encoder.json`` beside it, and the tokenizer in
``minilm-tokenizer.json``. Start-up cost is what matters here
(``git atlas route`` runs per request), so:

* the model's sha256 is verified once and the verified fact is cached by the
  file's size and mtime, not rehashed every run;
* the graph is optimised once (ORT_ENABLE_EXTENDED) and saved into the user
  cache dir, keyed by onnxruntime version and model sha, with its weights as
  external data; later runs load it with optimisation disabled and the
  weights mapped (~0.06 s instead of ~0.3 s);
* one intra-op thread: a single short query gains nothing from more.

When onnxruntime, tokenizers or the model are missing, :func:`get_backend`
returns an unavailable backend with the reason; callers fall back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_TOKENS = 128
DIM = 384
_DATA = Path(__file__).resolve().parent.parent / "data"
_TOKENIZER_FILE = _DATA / "minilm-tokenizer.json"
MODEL_FILE = _DATA / "router-encoder.onnx"
MODEL_META = _DATA / "router-encoder.json"


class EmbeddingUnavailable(Exception):
    """The embedding backend cannot run here; ``str()`` says why."""


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir() -> Path:
    from atlas_git.paths import user_cache_dir

    return user_cache_dir() / "embeddings"


def encoder_sha256() -> str:
    """The shipped encoder's sha256 from its metadata ("" when unreadable)."""
    try:
        return str(json.loads(MODEL_META.read_text(encoding="utf-8"))["sha256"])
    except (OSError, ValueError, KeyError):
        return ""


def verify_model(path: Path, expected: str, cache_dir: Path | None = None) -> None:
    """Check ``path``'s sha256 once per (size, mtime); raise when it differs."""
    st = path.stat()
    stamp = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": expected}
    marker = (cache_dir or _cache_dir()) / "model-verified.json"
    try:
        if json.loads(marker.read_text(encoding="utf-8")) == stamp:
            return
    except (OSError, ValueError):
        pass
    actual = _sha256(path)
    if actual != expected:
        raise EmbeddingUnavailable(f"model file {path} is corrupt (sha256 {actual[:12]}... "
                                   f"!= {expected[:12]}...): reinstall atlas-git")
    with contextlib.suppress(OSError):  # an unwritable cache only costs a rehash next time
        _atomic_write(marker, json.dumps(stamp).encode())


class EmbeddingBackend:
    """Encode texts to L2-normalised 384-d vectors (mean pooling over tokens)."""

    def __init__(self) -> None:
        self.available = False
        self.reason = ""
        self.load_seconds = 0.0
        self.model_path: Path | None = None
        self.optimized_path: Path | None = None
        self._session: Any = None
        self._tokenizer: Any = None

    def load(self) -> EmbeddingBackend:
        started = time.perf_counter()
        try:
            self._load()
            self.available = True
        except EmbeddingUnavailable as exc:
            self.reason = str(exc)
        except Exception as exc:  # a broken optional backend must never break routing
            self.reason = f"embedding backend failed to load: {type(exc).__name__}: {exc}"[:300]
        self.load_seconds = time.perf_counter() - started
        return self

    def _load(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EmbeddingUnavailable("onnxruntime is not installed (pip install onnxruntime)") from exc
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingUnavailable("tokenizers is not installed (pip install tokenizers)") from exc
        model = MODEL_FILE
        sha = encoder_sha256()
        if not sha:
            raise EmbeddingUnavailable(f"encoder metadata unreadable: {MODEL_META} (reinstall atlas-git)")
        if not model.is_file():
            raise EmbeddingUnavailable(f"encoder missing: {model} (reinstall atlas-git)")
        if not _TOKENIZER_FILE.is_file():
            raise EmbeddingUnavailable(f"tokenizer missing: {_TOKENIZER_FILE} (reinstall atlas-git)")
        self.model_path = model
        cache = _cache_dir()
        verify_model(model, sha, cache)

        tokenizer = Tokenizer.from_file(str(_TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer
        self._session = self._open_session(ort, model, cache / f"minilm-ort{ort.__version__}-{sha[:16]}")

    def _open_session(self, ort: Any, model: Path, optimized: Path) -> Any:
        """Load the cached optimised graph, building the cache on first use.

        The cache is a directory holding the graph (``model.onnx``) and its
        weights as external data (``model.data``), which onnxruntime maps
        instead of parsing ~90 MB of protobuf: ~3x faster to load.
        """
        graph = optimized / "model.onnx"
        if graph.is_file():
            opts = self._options(ort, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
            try:
                session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
                self.optimized_path = graph
                return session
            except Exception:
                # A truncated or stale cache: rebuild it below.
                shutil.rmtree(optimized, ignore_errors=True)
        opts = self._options(ort, ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
        tmp: Path | None = None
        try:
            optimized.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=optimized.parent, prefix=".minilm-"))
            opts.optimized_model_filepath = str(tmp / "model.onnx")
            opts.add_session_config_entry(
                "session.optimized_model_external_initializers_file_name", "model.data")
            opts.add_session_config_entry(
                "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        except OSError:
            tmp = None  # no writable cache: just run with in-memory optimisation
        session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        if tmp is not None:
            try:
                if (tmp / "model.onnx").is_file() and (tmp / "model.data").is_file():
                    os.rename(tmp, optimized)  # atomic: readers see all of it or nothing
                    self.optimized_path = graph
            except OSError:
                pass  # another process won the race, or the cache is read-only
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        return session

    @staticmethod
    def _options(ort: Any, level: Any) -> Any:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = level
        # The encoder's weights are int8 behind DequantizeLinear. With QDQ
        # handling on, onnxruntime fuses them into int8 matmul kernels that run
        # ~1.4x slower here and drift from the fp32 model; off, constant folding
        # turns them back into fp32 weights once, at optimisation time.
        opts.add_session_config_entry("session.disable_quant_qdq", "1")
        return opts

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``: shape (len(texts), 384), rows L2-normalised."""
        import numpy as np

        if not self.available:
            raise EmbeddingUnavailable(self.reason or "embedding backend not loaded")
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            enc = self._tokenizer.encode(text or " ")
            ids = np.array([enc.ids], dtype=np.int64)
            mask = np.array([enc.attention_mask], dtype=np.int64)
            hidden = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(ids)},
            )[0][0]
            # Mean pooling over the attended tokens (all of them: no padding).
            weights = mask[0].astype(np.float32)
            pooled = (weights @ hidden) / max(float(weights.sum()), 1e-9)
            out[i] = pooled / max(float(np.sqrt(pooled @ pooled)), 1e-12)
        return out


_BACKEND: EmbeddingBackend | None = None
_LOCK = threading.Lock()


def get_backend() -> EmbeddingBackend:
    """The process-wide backend, loaded on first use (check ``.available``)."""
    global _BACKEND
    with _LOCK:
        if _BACKEND is None:
            _BACKEND = EmbeddingBackend().load()
        return _BACKEND


def preload() -> None:
    """Start loading the backend in a background thread.

    Session creation runs in C++ without the GIL, so a CLI that calls this
    first overlaps the model load with its own git and config work.
    """
    if _BACKEND is None:
        threading.Thread(target=get_backend, name="atlas-embeddings", daemon=True).start()
