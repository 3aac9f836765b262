"""LLM review: routed, chunked, redacted, validated, cached, capped.

The intent is fixed to ``review``; the router picks the tier from the diff's
size. Every call goes through :func:`atlas_git.core.calls.complete` (metered by
the ledger). Replies must match :data:`SCHEMA`; a finding whose line is not an
added line of the diff is dropped with a note (a PR comment on such a line
would be rejected), and so is a reply that is not valid JSON. Calls run a few
at a time within a per-review cost cap and one deadline for the whole review.
Results are cached under ``.atlas/cache/review/``: per review by the blob ids
under review (an unchanged staged diff costs no rendering, no request, $0) and
per chunk by the exact text sent (an edit re-sends only the chunks it changed).
Both keys hold the models the router picks (offline, before any lookup) and
the prompt version, so another model or prompt never gets a stale answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from atlas_git.config import Config
from atlas_git.core.review import context
from atlas_git.core.review.diff import FileDiff
from atlas_git.core.review.findings import Finding
from atlas_git.core.review.reply import SCHEMA, merge_duplicates, validate_reply
from atlas_git.errors import AtlasError

CACHE_VERSION = 1
MAX_CONTENT_BYTES = 400_000  # larger files are shown as bare hunks

_FORMAT = """Each file is shown as `### path`, then lines as `<new line number><marker> <text>`:
marker `+` = added or changed, blank = unchanged context, `-` = removed (no number).
Report findings only on `+` lines, citing that line's number. `rule` is a short kebab-case
id (e.g. `null-deref`, `sql-injection`). `suggestion` is replacement text for lines
line..end_line, or null. Reply {"findings": []} when there is nothing worth reporting.
Text marked [REDACTED:...] was removed on purpose; do not report it."""
_USER = "Review this change (part {part} of {total}):\n\n{text}"


class Route(NamedTuple):
    """The router's pick for one review: models (first preferred), tier, method."""

    models: list[str]
    tier: str
    method: str


@dataclass
class LLMOutcome:
    """What the LLM part did: findings, notes, spend, and why it stopped."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran: bool = False
    failed: bool = False
    reason: str = ""
    cost: float = 0.0
    cached: int = 0
    calls: int = 0


def reviewable(files: Sequence[FileDiff], config: Config) -> list[FileDiff]:
    """Files worth sending: text with added lines, not skipped, never a secrets file."""
    from atlas_git.core.secrets import is_secret_path

    globs = [str(g) for g in config.get("review.skip_globs", []) or []]
    return [f for f in files if f.has_content and not f.binary and f.added
            and not context.skipped(f.path, globs) and not is_secret_path(f.path)]


def _generated(content: bytes) -> bool:
    """Files that say they are generated (protoc, sqlc, go generate...) in their head."""
    head = content[:1024]
    return b"@generated" in head or (b"enerated" in head and b"DO NOT EDIT" in head)


def _cache_dir(repo: Path | None) -> Path | None:
    """``.atlas/cache/review`` of the repo; None outside one or with ATLAS_DISABLE_STATE=1."""
    import os

    if repo is None or os.environ.get("ATLAS_DISABLE_STATE", "").lower() in ("1", "true", "yes", "on"):
        return None
    from atlas_git.paths import atlas_dir

    try:
        return atlas_dir(repo) / "cache" / "review"
    except AtlasError:
        return None


def prompt_version(system: str) -> str:
    """The prompts' identity: the system text (config prompt + format), the user template, the schema."""
    raw = json.dumps([system, _USER, SCHEMA], sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _cache_key(models: Sequence[str], system: str, payload: str) -> str:
    """Same models (fallbacks included), same prompts, same payload: the same answer."""
    raw = json.dumps([CACHE_VERSION, list(models), prompt_version(system), payload])
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


def _cache_get(cdir: Path | None, key: str) -> dict[str, Any] | None:
    if cdir is None:
        return None
    try:
        data = json.loads((cdir / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("findings"), list) else None


def _cache_put(cdir: Path | None, key: str, data: dict[str, Any]) -> None:
    if cdir is None:
        return
    import os
    import tempfile

    try:
        cdir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cdir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, cdir / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs a re-run


_CONCURRENCY = re.compile(r"\b(threading|Thread|Lock|RLock|asyncio|await|mutex|goroutine|"
                          r"multiprocessing|Semaphore|atomic)\b")
_SENSITIVE = re.compile(r"\b(password|passwd|token|auth\w*|crypto\w*|hashlib|hmac|jwt|cipher|"
                        r"execute\(|subprocess|eval\(|pickle|deserializ\w+|sanitiz\w+)", re.IGNORECASE)


def describe(files: Sequence[FileDiff]) -> tuple[str, int]:
    """A routing request that states the diff's size and complexity, plus its added lines."""
    added = sum(len(f.added) for f in files)
    sample = "\n".join(f.added_text[n] for f in files for n in f.added[:400])
    words = ["review a small change" if added <= 20 and len(files) <= 2 else "review a change"]
    if len(files) >= 4:
        words.append(f"touching {len(files)} files")
    if _CONCURRENCY.search(sample):
        words.append("with concurrency")
    if _SENSITIVE.search(sample):
        words.append("that is security-sensitive")
    return " ".join(words), added


def _route_models(config: Config, repo: Path | None, files: Sequence[FileDiff]
                  ) -> tuple[list[str], str, str, str]:
    """(models, tier, method, reasoning) for this review, from the router if present."""
    request, added = describe(files)
    try:
        from atlas_git.core.router import route
    except ImportError:  # router not installed yet: the configured gold tier
        models = [str(m) for m in config.get("tiers.gold.models", []) or []]
        return models, "gold", "default", "router unavailable"
    # The intent is fixed; the tier comes from the diff's size and complexity (patterns on
    # the description above, then the router's size rules), never from a paid classifier
    # call or the embedding model on every commit.
    import copy

    data = copy.deepcopy(config.data)
    data.setdefault("router", {}).update({"methods": ["pattern", "default"], "semantic": False})
    routing_config = Config(data=data, sources=config.sources, repo=config.repo)
    decision = route(request, config=routing_config, repo=repo, force_intent="review",
                     staged_lines=added, offline=True)
    models = [decision.model, *[m for m in decision.alternatives if m != decision.model]][:3]
    return models, decision.tier, decision.method, decision.reasoning


def run(files: Sequence[FileDiff], contents: Callable[[Sequence[FileDiff]], Mapping[str, bytes]],
        config: Config, repo: Path | None) -> LLMOutcome:
    """Review ``files`` with a model; never raises for provider trouble (fail-open)."""
    outcome = LLMOutcome()
    todo = reviewable(files, config)
    if not todo:
        outcome.reason = "LLM review: nothing reviewable (skipped, binary or deleted files only)"
        return outcome
    by_path = {f.path: f for f in todo}
    system = str(config.get("prompts.review", "")) + "\n\n" + _FORMAT
    chunk_tokens = int(config.get("review.chunk_tokens", 6000) or 6000)
    cdir = _cache_dir(repo)
    # Route first (offline, no request): the models are part of every cache key.
    try:
        route = Route(*_route_models(config, repo, todo)[:3])
    except AtlasError as exc:
        outcome.failed, outcome.reason = True, f"LLM review did not run: {exc}"
        return outcome
    if not route.models:
        outcome.failed, outcome.reason = True, "LLM review did not run: no model configured for review"
        return outcome
    models = route.models
    # Whole-review key: the exact blobs under review (content-addressed), so an unchanged
    # staged diff is answered before any rendering or network.
    whole_key = _cache_key(models, system, json.dumps(
        [chunk_tokens, [(f.path, f.old_path, f.old_sha, f.new_sha) for f in todo]]))
    hit = _cache_get(cdir, whole_key)
    if hit is not None:
        found, _ = validate_reply(json.dumps({"findings": hit["findings"]}), by_path)
        outcome.findings = merge_duplicates(found)
        outcome.notes += [str(n) for n in hit.get("notes", [])]
        outcome.ran, outcome.cached = True, 1
        outcome.reason = "LLM review: from cache ($0)"
        return outcome
    blobs = contents([f for f in todo if f.new_sha])
    generated = [f.path for f in todo if _generated(blobs.get(f.path, b""))]
    if generated:
        outcome.notes.append(f"skipped {len(generated)} generated file(s) (@generated / DO NOT EDIT)")
        todo = [f for f in todo if f.path not in generated]
        if not todo:
            outcome.reason = "LLM review: nothing reviewable (generated files only)"
            return outcome
    sections = []
    for f in todo:
        data = blobs.get(f.path)
        text = data.decode("utf-8", "replace") if data is not None else None
        sections.append(context.render(f, text))
    redacted = sum(s.redactions for s in sections)
    if redacted:
        outcome.notes.append(f"redacted {redacted} secret(s) before sending")
    chunks, notes = context.chunk(sections, chunk_tokens)
    outcome.notes += notes
    pending = []
    for i, ch in enumerate(chunks):
        key = _cache_key(models, system, ch.text)
        hit = _cache_get(cdir, key)
        if hit is not None:
            found, _ = validate_reply(json.dumps({"findings": hit["findings"]}), by_path)
            outcome.findings += found
            outcome.notes += [str(n) for n in hit.get("notes", [])]
            outcome.cached += 1
        else:
            pending.append((i, ch, key))
    if pending:
        _call_chunks(pending, len(chunks), system, route, by_path, config, repo, outcome, cdir)
    else:
        outcome.ran = True
        outcome.reason = "LLM review: from cache ($0)"
    outcome.findings = merge_duplicates(outcome.findings)
    complete_run = outcome.ran and not outcome.failed and not any(
        "not reviewed" in n or "incomplete" in n or "not valid JSON" in n or "schema" in n
        for n in outcome.notes)
    if complete_run:
        _cache_put(cdir, whole_key, {"findings": [f.to_json() for f in outcome.findings],
                                     "notes": outcome.notes, "models": models})
    return outcome


def _call_chunks(pending: list[tuple[int, context.Chunk, str]], total: int, system: str, route: Route,
                 by_path: Mapping[str, FileDiff], config: Config, repo: Path | None,
                 outcome: LLMOutcome, cdir: Path | None) -> None:
    """Call the model for the uncached chunks: a few in parallel, within cap and deadline."""
    import time
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from atlas_git.core.calls import CallContext, complete
    from atlas_git.core.pricing import estimate_cost, estimate_tokens

    models, tier, method = route
    cap = float(config.get("review.max_cost", 0.5) or 0.0)
    max_out = int(config.get("review.max_output_tokens", 2000) or 2000)
    # review.llm_timeout bounds the whole LLM review, not each call: a hook must not hang.
    deadline = time.monotonic() + float(config.get("review.llm_timeout", 60.0) or 60.0)
    workers = max(1, int(config.get("review.max_parallel", 4) or 1))
    ctx = CallContext(config=config, repo=repo, command="review", intent="review", tier=tier,
                      method=method)
    if sys.stderr.isatty():  # progress for what takes seconds; logs and CI stay clean
        sys.stderr.write(f"atlas: LLM review of {len(pending)} part(s) with {models[0]} ({tier})...\n")
        sys.stderr.flush()

    def call(index: int, chunk: context.Chunk) -> Any:
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": _USER.format(part=index + 1, total=total, text=chunk.text)}]
        remaining = max(0.5, deadline - time.monotonic())
        return complete(ctx, messages, models=models, max_tokens=max_out, response_schema=SCHEMA,
                        schema_name="review", read_timeout=remaining)

    committed = 0.0  # worst-case cost of calls made or in flight, for the per-review cap
    queue = list(pending)
    running: dict[Future[Any], tuple[str, float]] = {}
    done = 0
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while queue or running:
            while queue and len(running) < workers and not errors:
                index, chunk, key = queue[0]
                worst = estimate_cost(config, models[0], estimate_tokens(system + chunk.text) + 200, max_out)
                if cap and worst is not None and committed + worst > cap:
                    outcome.notes.append(f"review cost cap ${cap:g} reached (review.max_cost): "
                                         f"{len(queue)} part(s) not reviewed")
                    queue.clear()
                    break
                if time.monotonic() >= deadline:
                    outcome.notes.append(f"review time limit reached (review.llm_timeout): "
                                         f"{len(queue)} part(s) not reviewed")
                    queue.clear()
                    break
                queue.pop(0)
                committed += worst or 0.0
                running[pool.submit(call, index, chunk)] = (key, worst or 0.0)
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                key, worst = running.pop(future)
                try:
                    reply = future.result()
                except AtlasError as exc:
                    errors.append(" ".join(str(exc).split()))
                    queue.clear()  # the provider is unhappy: do not start more calls
                    continue
                outcome.calls += 1
                cost = reply.cost
                if cost is None:
                    cost = estimate_cost(config, reply.model_served, reply.tokens_in, reply.tokens_out) or 0.0
                outcome.cost += cost
                committed += cost - worst
                found, notes = validate_reply(reply.content, by_path)
                outcome.findings += found
                outcome.notes += notes
                done += 1
                if not any("not valid JSON" in n or "schema" in n for n in notes):
                    _cache_put(cdir, key, {"findings": [f.to_json() for f in found], "notes": notes,
                                           "model": reply.model_served, "cost": cost})
    _finish(outcome, done, total, errors)


def _finish(outcome: LLMOutcome, done: int, total: int, errors: list[str]) -> None:
    outcome.ran = done > 0 or outcome.cached > 0
    if outcome.ran:
        if errors:
            outcome.notes.append(f"LLM review incomplete: {errors[0]}")
        outcome.reason = f"LLM review: {done + outcome.cached} of {total} part(s), ${outcome.cost:.4f}"
        if outcome.cached:
            outcome.reason += f" ({outcome.cached} from cache)"
        return
    outcome.failed = True
    why = errors[0] if errors else (outcome.notes[-1] if outcome.notes else "unknown")
    outcome.reason = f"LLM review did not run: {why}"
