"""The MiniLM backend: real model, real onnxruntime; caches and failure modes."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

from atlas_git.adapters import embeddings


def test_encode_is_normalised_and_semantic() -> None:
    backend = embeddings.get_backend()
    assert backend.available, backend.reason
    vecs = backend.encode(["fix the crash in parse()", "parse() crashes, please fix it",
                           "make the landing page load faster"])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > 0.7 > sims[0, 2]
    # Long inputs are truncated to 128 tokens, not rejected.
    assert backend.encode(["word " * 5000]).shape == (1, 384)


def test_optimized_graph_is_cached_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "_cache_dir", lambda: tmp_path)
    first = embeddings.EmbeddingBackend().load()
    assert first.available, first.reason
    assert first.optimized_path is not None and first.optimized_path.parent.parent == tmp_path
    assert (first.optimized_path.parent / "model.data").stat().st_size > 1_000_000
    assert not list(tmp_path.glob(".minilm-*")), "temporary build dirs are cleaned up"
    second = embeddings.EmbeddingBackend().load()
    assert second.optimized_path == first.optimized_path
    text = ["add a retry to the upload"]
    assert np.allclose(first.encode(text), second.encode(text), atol=1e-5)
    # A corrupt cache file is rebuilt, not fatal.
    first.optimized_path.write_bytes(b"garbage")
    third = embeddings.EmbeddingBackend().load()
    assert third.available and third.optimized_path is not None
    assert third.optimized_path.stat().st_size > 1000


def test_model_hash_is_verified_once_per_size_and_mtime(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights")
    import hashlib

    sha = hashlib.sha256(b"weights").hexdigest()
    embeddings.verify_model(model, sha, tmp_path / "cache")
    marker = json.loads((tmp_path / "cache" / "model-verified.json").read_text())
    assert marker["sha256"] == sha and marker["size"] == 7

    def boom(path: Path) -> str:
        raise AssertionError("rehashed although size and mtime did not change")

    monkeypatch.setattr(embeddings, "_sha256", boom)
    embeddings.verify_model(model, sha, tmp_path / "cache")
    monkeypatch.undo()
    model.write_bytes(b"tampered")
    with pytest.raises(embeddings.EmbeddingUnavailable, match="corrupt"):
        embeddings.verify_model(model, sha, tmp_path / "cache")


def test_missing_onnxruntime_reports_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    backend = embeddings.EmbeddingBackend().load()
    assert not backend.available
    assert "onnxruntime is not installed" in backend.reason
    with pytest.raises(embeddings.EmbeddingUnavailable):
        backend.encode(["x"])


def test_shipped_encoder_matches_its_metadata() -> None:
    meta = json.loads(embeddings.MODEL_META.read_text(encoding="utf-8"))
    assert embeddings.encoder_sha256() == meta["sha256"]
    import hashlib

    assert hashlib.sha256(embeddings.MODEL_FILE.read_bytes()).hexdigest() == meta["sha256"], \
        "router-encoder.onnx and router-encoder.json disagree: rerun benchmarks/train_router.py"
    # Weight-only int8: about a quarter of the fp32 model's ~90 MB.
    assert 15e6 < embeddings.MODEL_FILE.stat().st_size < 30e6


def test_missing_encoder_metadata_reports_unavailable(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MODEL_META", tmp_path / "absent.json")
    backend = embeddings.EmbeddingBackend().load()
    assert not backend.available
    assert "encoder metadata unreadable" in backend.reason and "reinstall" in backend.reason
    (tmp_path / "meta.json").write_text('{"sha256": "' + "0" * 64 + '"}')
    monkeypatch.setattr(embeddings, "MODEL_META", tmp_path / "meta.json")
    monkeypatch.setattr(embeddings, "_cache_dir", lambda: tmp_path / "cache")
    tampered = embeddings.EmbeddingBackend().load()
    assert not tampered.available and "corrupt" in tampered.reason
