"""``git atlas doctor``: what atlas-git sees, what is missing, how to fix it."""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from pathlib import Path
from typing import Any

from atlas_git import __version__, ui
from atlas_git.errors import EXIT_FAILURE, EXIT_OK, AtlasError

REACH_CONNECT_TIMEOUT = 2.0
REACH_READ_TIMEOUT = 4.0


def _git() -> dict[str, Any]:
    from atlas_git.adapters import git

    try:
        _, out, _ = git.run(["--version"])
    except AtlasError as exc:
        return {"ok": False, "version": None, "detail": str(exc)}
    return {"ok": True, "version": out.strip().removeprefix("git version ")}


def _provider(config: Any, offline: bool) -> dict[str, Any]:
    from atlas_git.provider_settings import resolve

    try:
        settings = resolve(config)
    except AtlasError as exc:
        return {"base_url": config.get("provider.base_url"), "key_source": "error",
                "reachable": None, "detail": str(exc)}
    info: dict[str, Any] = {"base_url": settings.base_url, "key_source": settings.key_source,
                            "has_key": settings.api_key is not None,
                            "openrouter": settings.is_openrouter, "reachable": None, "detail": ""}
    if offline:
        info["detail"] = "not checked (--offline)"
        return info
    from atlas_git.adapters.llm import ProviderClient

    quick = dataclasses.replace(settings, connect_timeout=REACH_CONNECT_TIMEOUT,
                                read_timeout=REACH_READ_TIMEOUT, max_retries=0)
    started = time.perf_counter()
    try:
        data = ProviderClient(quick).get_json("models", auth=not settings.is_openrouter)
        count = len(data.get("data", [])) if isinstance(data, dict) else 0
        info.update(reachable=True, detail=f"GET models: {count} models "
                    f"in {time.perf_counter() - started:.2f}s")
    except AtlasError as exc:
        info.update(reachable=False, detail=str(exc))
    return info


def _embeddings() -> dict[str, Any]:
    from atlas_git.adapters.embeddings import get_backend

    backend = get_backend()
    info: dict[str, Any] = {"available": backend.available, "reason": backend.reason,
                            "load_seconds": round(backend.load_seconds, 3),
                            "model": str(backend.model_path or ""),
                            "optimized_cache": str(backend.optimized_path or "")}
    if backend.available:
        started = time.perf_counter()
        backend.encode(["warm up the encoder"])
        info["first_encode_ms"] = round((time.perf_counter() - started) * 1000, 2)
        started = time.perf_counter()
        backend.encode(["fix the crash in parse()"])
        info["encode_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return info


def collect(offline: bool) -> dict[str, Any]:
    """Everything doctor reports, as data."""
    from atlas_git.config import load_config
    from atlas_git.paths import find_repo

    repo = find_repo()
    problems: list[dict[str, str]] = []
    report: dict[str, Any] = {"version": __version__, "python": platform.python_version(),
                              "platform": platform.platform(), "repo": str(repo) if repo else None}
    try:
        config = load_config(repo)
    except AtlasError as exc:
        report["config"] = {"error": str(exc)}
        problems.append({"what": f"config: {exc}", "fix": "fix or remove the file named above"})
        report["problems"] = problems
        return report
    report["config"] = {"sources": [dataclasses.asdict(s) for s in config.sources],
                        "llm_enabled": bool(config.get("settings.llm", True))}
    report["git"] = _git()
    if not report["git"]["ok"]:
        problems.append({"what": "git is not available", "fix": "install git 2.30+ and put it on PATH"})
    report["provider"] = provider = _provider(config, offline)
    if provider.get("openrouter") and not provider.get("has_key"):
        problems.append({"what": "no API key for OpenRouter: the AI classifier and LLM steps are skipped",
                         "fix": "export OPENROUTER_API_KEY=..., or point ATLAS_BASE_URL at a local "
                                "OpenAI-compatible server; offline routing and review still work"})
    if provider.get("reachable") is False:
        problems.append({"what": f"provider not reachable: {provider['detail']}",
                         "fix": "check the network or ATLAS_BASE_URL; use --offline meanwhile"})
    if provider.get("key_source") == "error":
        problems.append({"what": provider["detail"], "fix": "fix the key file as the message says"})
    report["embeddings"] = emb = _embeddings()
    if not emb["available"]:
        problems.append({"what": f"semantic router unavailable: {emb['reason']}",
                         "fix": "pip install onnxruntime tokenizers, or reinstall atlas-git if the "
                                "encoder is missing (routing falls back to patterns meanwhile)"})
    if repo is None:
        problems.append({"what": "not inside a git repository",
                         "fix": "run from a work tree for repo config, budgets and reviews"})
    report["problems"] = problems
    return report


def _print(report: dict[str, Any]) -> None:
    ui.out(f"atlas-git {report['version']} (python {report['python']}, {report['platform']})")
    ui.out(f"repository   {report['repo'] or '-'}")
    config = report.get("config", {})
    if "sources" in config:
        ui.out("config sources (later wins):")
        for src in config["sources"]:
            state = f"{src['keys']} keys" if src["loaded"] else "not present"
            ui.out(f"  {src['name']:<12} {src['path']}  ({state})")
    if "git" in report:
        ui.out(f"git          {report['git'].get('version') or report['git'].get('detail')}")
    prov = report.get("provider")
    if prov:
        reach = {True: "reachable", False: "NOT reachable", None: "not checked"}[prov["reachable"]]
        ui.out(f"provider     {prov['base_url']}  key from: {prov['key_source']}  {reach}"
               + (f"  ({prov['detail']})" if prov.get("detail") else ""))
    emb = report.get("embeddings")
    if emb:
        if emb["available"]:
            ui.out(f"embeddings   router encoder (fine-tuned MiniLM, {Path(emb['model']).name}) via "
                   f"onnxruntime: loaded in {emb['load_seconds']:.2f}s, "
                   f"encode {emb.get('encode_ms', 0):.1f} ms (first {emb.get('first_encode_ms', 0):.1f} ms)")
        else:
            ui.out(f"embeddings   unavailable: {emb['reason']}")
    if report["problems"]:
        ui.out("missing / to fix:")
        for p in report["problems"]:
            ui.out(f"  - {p['what']}\n    fix: {p['fix']}")
    else:
        ui.out("nothing missing")


def run_doctor(*, as_json: bool, offline: bool) -> int:
    """Print the report; exit 1 only when something essential (git, config) is broken."""
    report = collect(offline)
    if as_json:
        ui.out(json.dumps(report, indent=2))
    else:
        _print(report)
    broken = "error" in report.get("config", {}) or not report.get("git", {}).get("ok", False)
    return EXIT_FAILURE if broken else EXIT_OK
