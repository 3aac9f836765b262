"""One ``git atlas fix`` request: route, gather context, ask, apply, check, retry, commit.

All work happens in a scratch worktree at the base commit; the user's tree,
index and refs are never touched. Each model call goes through
:func:`atlas_git.core.calls.complete`, so every attempt is a ledger row.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.adapters import git
from atlas_git.config import Config
from atlas_git.core.executor import worktree as wtmod
from atlas_git.core.executor.context import Context, build_context, estimate_tokens
from atlas_git.core.executor.pipeline import Outcome, require_llm
from atlas_git.core.executor.progress import waiting
from atlas_git.core.executor.prompts import build_messages
from atlas_git.core.executor.sandbox import interpreter_for, run_sandboxed
from atlas_git.errors import UsageError

TIER_ORDER = ("silver", "gold", "platinum", "diamond")
FORMAT_ROUTE_CONFIDENCE = 0.6


@dataclass
class FixOptions:
    """Everything the ``fix`` family of commands can ask for."""

    request: str
    paths: list[str] = field(default_factory=list)
    intent: str | None = None  # forced intent (edit, generate, ...); None = routed
    tier: str | None = None
    model: str | None = None
    dry_run: bool = False
    base: str | None = None
    staged: bool = False
    test_command: str | None = None
    no_test: bool = False
    max_attempts: int | None = None
    run_generated: bool = False
    quiet: bool = False
    # Called with the plan (decision, files, estimated cost) before any spend;
    # returning False stops the run (the CLI's confirmation prompt).
    confirm: Callable[[dict[str, Any]], bool] | None = None


def _staged_paths(root: Path, base: str) -> list[str]:
    _, out, _ = git.run(["diff", "--no-ext-diff", "--no-renames", "--name-only", "-z", f"{base}^", base],
                        cwd=root)
    return [p for p in out.split("\0") if p]


def _staged_diff(root: Path, base: str) -> str:
    _, out, _ = git.run(["diff", "--no-ext-diff", "--no-color", "--no-renames", f"{base}^", base],
                        cwd=root)
    return out


def decide(root: Path, opts: FixOptions, config: Config, *, staged_lines: int = 0) -> Any:
    """The routing decision (offline for dry runs and when the repo opted out)."""
    from atlas_git.core.calls import llm_allowed
    from atlas_git.core.router import route

    return route(
        opts.request, config=config, repo=root, files=tuple(opts.paths), staged_lines=staged_lines,
        offline=opts.dry_run or not llm_allowed(config), force_intent=opts.intent,
        force_tier=opts.tier, force_model=opts.model,
    )


def _estimate(config: Config, model: str, prompt_tokens: int, intent: str) -> float | None:
    from atlas_git.core.pricing import estimate_cost

    out = int(config.get(f"intents.{intent}.expected_output_tokens", 1200) or 1200)
    return estimate_cost(config, model, prompt_tokens, out)


def next_tier(config: Config, tier: str, prompt_tokens: int, intent: str,
               root: Path) -> tuple[str, list[str]] | None:
    """One tier up, with the router's model choice there, when it fits the remaining budget."""
    from atlas_git.core.budget import budget_view
    from atlas_git.core.router.select import select_model

    if tier not in TIER_ORDER or tier == TIER_ORDER[-1]:
        return None
    up = TIER_ORDER[TIER_ORDER.index(tier) + 1]
    budget = budget_view(config, root)
    sel = select_model(config, tier=up, intent=intent, prompt_tokens=prompt_tokens, budget=budget,
                       min_tier=up)
    remaining = budget.remaining()
    if not sel.model or sel.tier != up:
        return None
    if remaining is not None and (sel.estimated_cost is None or sel.estimated_cost > remaining):
        return None
    return up, [sel.model, *sel.alternatives]


def debug_command(opts: FixOptions, ctx: Context) -> str | None:
    """What to run to see the real failure: --test, else the named test or script."""
    import shlex
    import sys

    if opts.test_command:
        return opts.test_command
    for path in ctx.paths:
        name = Path(path).name
        if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
            return f"{shlex.quote(sys.executable)} -m pytest -q -x {shlex.quote(path)}"
    for path in ctx.paths:
        argv = interpreter_for(path)
        if argv:
            return " ".join(shlex.quote(a) for a in argv)
    return None


def cost_of(config: Config, result: Any) -> float:
    if result.cost is not None:
        return float(result.cost)
    from atlas_git.core.pricing import estimate_cost

    return estimate_cost(config, result.model_served, result.tokens_in, result.tokens_out) or 0.0


def record(root: Path, config: Config, run_id: str, kind: str, success: bool, *, model: str,
            tier: str, intent: str, detail: str | None = None) -> None:
    """One outcome row (apply, test) for ``git atlas stats`` and model success rates."""
    from atlas_git.core.ledger import record_outcome

    record_outcome(root, run_id, kind, success, model=model, tier=tier, intent=intent,
                   detail=detail, config=config)


def _record_decision(root: Path, config: Config, run_id: str, decision: Any, request: str) -> None:
    from atlas_git.core.ledger import record_decision

    record_decision(root, run_id, intent=decision.intent, tier=decision.tier, model=decision.model,
                    method=decision.method, confidence=decision.confidence,
                    estimated_cost=decision.estimated_cost, request=request,
                    reasoning=decision.reasoning, config=config)


def run_fix(root: Path, opts: FixOptions, config: Config) -> Outcome:
    """Run one request end to end and return its outcome."""
    from atlas_git.core.executor.proposals import collect_garbage

    if not opts.request.strip():
        raise UsageError("the request is empty")
    wtmod.refuse_recursion()
    if opts.intent != "format" and not opts.dry_run:
        require_llm(config)
    base = wtmod.staged_base(root) if opts.staged else wtmod.resolve_base(root, opts.base)
    staged_diff = ""
    if opts.staged:
        opts.paths = opts.paths or _staged_paths(root, base)
        staged_diff = _staged_diff(root, base)
    if opts.intent == "format":
        from atlas_git.core.executor.formatters import run_format

        return run_format(root, base, opts, config)  # type: ignore[no-any-return]
    changed_lines = sum(1 for line in staged_diff.splitlines()
                        if line[:1] in ("+", "-") and not line.startswith(("+++", "---")))
    decision = decide(root, opts, config, staged_lines=changed_lines)
    intent = decision.intent
    if intent == "format" and decision.method not in ("ai", "pattern", "forced") \
            and decision.confidence < FORMAT_ROUTE_CONFIDENCE:
        # Running formatters instead of the model is a big switch: only on a sure route.
        intent = decision.intent = "edit"
    if intent == "format":
        from atlas_git.core.executor.formatters import run_format

        return run_format(root, base, opts, config, decision=decision)  # type: ignore[no-any-return]
    ctx = build_context(root, base, opts.request, opts.paths, config=config, tier=decision.tier,
                        allow_new=intent in ("generate", "edit", "debug", "optimize"))
    messages = build_messages(config, "explain" if intent in ("explain", "review") else intent,
                              opts.request, ctx, staged_diff=staged_diff)
    prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
    plan = {"decision": decision.to_json(), "files": ctx.paths, "skipped": ctx.skipped,
            "staged_diff": staged_diff,
            "context_tokens": ctx.tokens, "redactions": ctx.redactions, "base": base,
            "estimated_cost": _estimate(config, decision.model, prompt_tokens, intent)}
    if opts.dry_run:
        return Outcome(status="dry-run", base=base, extra=plan)
    require_llm(config)
    if opts.confirm is not None and not opts.confirm(plan):
        return Outcome(status="cancelled", base=base, extra=plan)
    run_id = wtmod.new_id()
    _record_decision(root, config, run_id, decision, opts.request)
    if intent in ("explain", "review"):
        return _explain(root, opts, config, decision, messages, plan, run_id)
    collect_garbage(root)
    from atlas_git.core.executor.attempts import edit_loop

    return edit_loop(root, opts, config, decision, ctx, base, plan, run_id)


def _explain(root: Path, opts: FixOptions, config: Config, decision: Any,
             messages: list[dict[str, str]], plan: dict[str, Any], run_id: str) -> Outcome:
    from atlas_git.core.calls import CallContext, complete

    call = CallContext(config=config, repo=root, command="explain", request_id=run_id,
                       intent=decision.intent,
                       tier=decision.tier, method=decision.method)
    with waiting(f"asking {decision.model}", quiet=opts.quiet):
        result = complete(call, messages, models=[decision.model, *decision.alternatives],
                          max_tokens=int(config.get("settings.max_output_tokens", 4096)))
    plan["text"] = result.content
    plan["model_served"] = result.model_served
    return Outcome(status="explained", run_id=run_id, cost=cost_of(config, result), attempts=1,
                   extra=plan)


def run_generated(path: Path, files: list[str], config: Config) -> list[dict[str, Any]]:
    """Execute generated Python/JS/shell/SQL files in the sandbox and keep their output."""
    runs = []
    for rel in files:
        argv = interpreter_for(rel)
        if argv is None or not (path / rel).is_file():
            continue
        res = run_sandboxed(argv, cwd=path, timeout=float(config.get("executor.sandbox_timeout", 120)),
                            memory_mb=int(config.get("executor.sandbox_memory_mb", 2048)))
        runs.append({"path": rel, "returncode": res.returncode, "output": res.output,
                     "network_isolated": res.network_isolated})
    return runs


def relative_paths(root: Path, paths: list[str], cwd: Path | None = None) -> list[str]:
    """Paths as given on the command line (relative to cwd) → relative to the repo root."""
    here = Path(cwd or os.getcwd()).resolve()
    out = []
    for raw in paths:
        full = (here / raw).resolve() if not Path(raw).is_absolute() else Path(raw).resolve()
        try:
            out.append(full.relative_to(root.resolve()).as_posix())
        except ValueError as exc:
            raise UsageError(f"{raw}: outside the repository") from exc
    return out
