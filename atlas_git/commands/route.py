"""``git atlas route``: show where a request would go, one or many at a time."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from atlas_git import ui
from atlas_git.errors import EXIT_FAILURE, EXIT_OK, AtlasError, UsageError

_MAYBE_STAGED = re.compile(r"review|staged|diff|commit|change|patch|\bpr\b", re.IGNORECASE)


def _staged_lines(repo: Path | None, request: str) -> int:
    """Added + deleted lines in the index, only when the request may be about it."""
    if repo is None or not _MAYBE_STAGED.search(request[:2000]):
        return 0
    return _staged_total(repo)


@functools.lru_cache(maxsize=4)
def _staged_total(repo: Path) -> int:
    """Read once per process: a --batch of reviews must not run git per line."""
    from atlas_git.adapters import git

    try:
        out = git.staged_diff(repo, "--numstat", "-z")
    except AtlasError:
        return 0
    total = 0
    for record in out.split("\0"):
        parts = record.split("\t")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            total += int(parts[0]) + int(parts[1])
    return total


def _load(offline: bool) -> tuple[Any, Path | None]:
    from atlas_git.adapters.embeddings import preload

    preload()  # overlaps the model load with the git and config work below
    from atlas_git.config import load_config
    from atlas_git.paths import find_repo

    repo = find_repo()
    return load_config(repo), repo


def _decide(request: str, *, config: Any, repo: Path | None, files: Sequence[str], offline: bool,
            intent: str | None, tier: str | None, model: str | None) -> Any:
    from atlas_git.core.router import route

    return route(request, config=config, repo=repo, files=files,
                 staged_lines=_staged_lines(repo, request), offline=offline,
                 force_intent=intent, force_tier=tier, force_model=model)


def _fmt_score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def explain_lines(decision: Any) -> list[str]:
    """Each method's vote and score, and why the winner won."""
    lines = ["votes:"]
    for v in decision.votes:
        label = f"{v.intent or '-'}/{v.tier or '-'}"
        scores = f"{_fmt_score(v.intent_score)}/{_fmt_score(v.tier_score)}"
        mark = "*" if v.accepted else " "
        lines.append(f" {mark} {v.method:<9} {label:<20} score {scores:<11} {v.note}")
    if decision.method == "forced":
        why = "forced by flags; the classifiers only filled in what was not forced"
    elif decision.method == "ai":
        why = "the AI classifier answered with valid JSON at or above router.ai_confidence_threshold"
    elif decision.method == "semantic":
        why = ("the semantic score cleared its fitted threshold, or no pattern rule matched "
               "(see the semantic note)")
    elif decision.method == "pattern":
        why = "the semantic vote was below its fitted threshold or unavailable, and a rule matched"
    else:
        why = "no method gave an answer: settings.default_intent / default_tier"
    lines.append(f"winner: {decision.method}: {why}")
    for note in decision.notes:
        lines.append(f"note: {note}")
    return lines


def _human(decision: Any, explain: bool) -> None:
    cost = ("unknown" if decision.estimated_cost is None
            else f"~${decision.estimated_cost:.6f}" if decision.estimated_cost < 0.01
            else f"~${decision.estimated_cost:.4f}")
    ui.out(f"intent      {ui.style(decision.intent, 'bold')}")
    ui.out(f"tier        {decision.tier}")
    ui.out(f"model       {decision.model}")
    if decision.alternatives:
        ui.out(f"fallbacks   {', '.join(decision.alternatives)}")
    ui.out(f"cost        {cost}")
    ui.out(f"method      {decision.method} (confidence {decision.confidence:.2f})")
    ui.out(f"reasoning   {decision.reasoning}")
    if explain:
        ui.out("")
        for line in explain_lines(decision):
            ui.out(line)


def run_route(words: Sequence[str], *, offline: bool, as_json: bool, explain: bool,
              files: Sequence[str], tier: str | None, model: str | None, intent: str | None,
              batch: str | None) -> int:
    """Route one request (TEXT) or a batch file; returns the exit code."""
    if batch is not None:
        if words:
            raise UsageError("give either TEXT or --batch FILE, not both")
        return _run_batch(batch, offline=offline, explain=explain, files=files, tier=tier,
                          model=model, intent=intent)
    if not words:
        raise UsageError("missing the request TEXT", hint='e.g. git atlas route "fix the crash in '
                         'parse()", or --batch FILE')
    request = " ".join(words)
    if request == "-":
        request = sys.stdin.buffer.read().decode("utf-8", "replace")
    from atlas_git.core.router.text import clean

    clean(request)  # reject an empty request before any loading starts
    config, repo = _load(offline)
    decision = _decide(request, config=config, repo=repo, files=files, offline=offline,
                       intent=intent, tier=tier, model=model)
    if as_json:
        ui.out(json.dumps(decision.to_json(), ensure_ascii=False))
        if explain:
            for line in explain_lines(decision):
                ui.info(line)
    else:
        _human(decision, explain)
    return EXIT_OK


def _open_batch(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise UsageError(f"--batch: no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"--batch: {path} is a directory") from exc
    except OSError as exc:
        raise UsageError(f"--batch: cannot read {path}: {exc.strerror}") from exc


def _run_batch(path: str, *, offline: bool, explain: bool, files: Sequence[str], tier: str | None,
               model: str | None, intent: str | None) -> int:
    """One JSON object per non-blank input line, with ``request`` added."""
    stream = _open_batch(path)  # a bad path fails before any model loading starts
    failed = 0
    try:
        config, repo = _load(offline)
        for raw in stream:
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            if not line.strip():
                continue
            try:
                decision = _decide(line, config=config, repo=repo, files=files, offline=offline,
                                   intent=intent, tier=tier, model=model)
            except AtlasError as exc:
                failed += 1
                ui.out(json.dumps({"request": line, "error": str(exc)}, ensure_ascii=False))
                continue
            ui.out(json.dumps({"request": line, **decision.to_json()}, ensure_ascii=False))
            if explain:
                for text in explain_lines(decision):
                    ui.info(text)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return EXIT_FAILURE if failed else EXIT_OK
