"""The attempt loop of an editing request: ask, apply, check, feed back, escalate, commit.

Runs inside one scratch worktree. An attempt fails when the reply has no
usable edit, applies only partly, fails the checks, or is refused by the
repository's commit hooks; the reason goes back to the model for the next
attempt. The proposal is committed as soon as an attempt passes everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_git.config import Config
from atlas_git.core.executor import worktree as wtmod
from atlas_git.core.executor.checks import CheckFailure, CheckReport
from atlas_git.core.executor.context import Context, estimate_tokens
from atlas_git.core.executor.pipeline import (
    Outcome,
    PathRefused,
    branch_name,
    check_in,
    commit_proposal,
    prepare_edits,
    test_settings,
)
from atlas_git.core.executor.progress import waiting
from atlas_git.core.executor.prompts import build_messages, cut_off_note, retry_prompt
from atlas_git.core.executor.sandbox import run_sandboxed
from atlas_git.errors import AtlasError, UsageError

if TYPE_CHECKING:
    from atlas_git.core.executor.fixer import FixOptions

FAILURES_BEFORE_ESCALATION = 2


@dataclass
class Attempt:
    """What one reply led to."""

    problems: str = ""
    report: CheckReport | None = None  # set when the edit applied and the checks ran
    changed: list[str] | None = None
    already_present: bool = False  # every hunk is already in the base: nothing to do


def _evidence(opts: FixOptions, ctx: Context, scratch: wtmod.Scratch, config: Config) -> str:
    """For ``debug``: run the failing test or script at the base and capture its output."""
    from atlas_git.core.executor.fixer import debug_command

    command = debug_command(opts, ctx)
    if not command:
        return ""
    run = run_sandboxed(command, cwd=scratch.path,
                        timeout=float(config.get("executor.sandbox_timeout", 120)))
    return f"$ {command}\n(exit {run.returncode})\n{run.output[-4000:]}"


def try_reply(root: Path, base: str, scratch: wtmod.Scratch, config: Config, content: str, *,
              cut_off: bool, test: str, lint: str, outcome: Outcome) -> Attempt:
    """Parse, apply and check one reply in the scratch worktree."""
    try:
        prepared = prepare_edits(root, base, content)
    except UsageError as exc:
        note = f"{cut_off_note()}\n" if cut_off else ""
        return Attempt(problems=f"{note}{exc}")
    outcome.hunks_applied, outcome.hunks_failed = prepared.hunks_applied, prepared.hunks_failed
    if prepared.status != "applied":
        return Attempt(problems="\n".join(prepared.errors) or f"the edit was {prepared.status}")
    if not prepared.files:
        # The model asked for what the code already does: done, not a failure worth a retry.
        return Attempt(already_present=prepared.already_applied > 0,
                       problems="" if prepared.already_applied else "the edit changes nothing")
    scratch.reset()
    scratch.write_files(prepared.files)
    wtmod.fault_point("files-written")
    changed = scratch.changed_paths()
    if not changed:
        return Attempt(problems="the edit leaves every file as it was")
    report = check_in(scratch, changed, config, test_command=test, lint_command=lint)
    wtmod.fault_point("checks-done")
    return Attempt(problems="" if report.ok else report.feedback(), report=report, changed=changed)


def edit_loop(root: Path, opts: FixOptions, config: Config, decision: Any, ctx: Context, base: str,
              plan: dict[str, Any], run_id: str) -> Outcome:
    """Attempts until one passes (→ proposal) or the attempts run out."""
    from atlas_git.core.calls import CallContext, complete
    from atlas_git.core.executor.fixer import cost_of, next_tier, record

    intent, tier = decision.intent, decision.tier
    models = [decision.model, *decision.alternatives]
    max_attempts = opts.max_attempts or int(config.get("executor.max_attempts", 3))
    if max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    test, lint = test_settings(config, opts.test_command, opts.no_test)
    can_escalate = opts.model is None and opts.tier is None
    mode = str(config.get("secrets.mode", "redact"))
    outcome = Outcome(status="failed", run_id=run_id, base=base, extra=plan)
    name = branch_name(run_id, opts.request)
    failures_at_tier = 0
    served = decision.model
    last = Attempt()

    def trailers(checks: str) -> dict[str, str]:
        return {"Atlas-Request": opts.request, "Atlas-Intent": intent, "Atlas-Tier": tier,
                "Atlas-Model": served, "Atlas-Cost": f"{outcome.cost:.6f}", "Atlas-Checks": checks}

    with wtmod.run_lock(root, run_id), wtmod.scratch_worktree(root, run_id, base) as scratch:
        evidence = _evidence(opts, ctx, scratch, config) if intent == "debug" else ""
        if evidence:
            plan["evidence"] = evidence
        messages = build_messages(config, intent, opts.request, ctx, evidence=evidence,
                                  staged_diff=plan.get("staged_diff", ""))
        for attempt in range(1, max_attempts + 1):
            outcome.attempts = attempt
            call = CallContext(config=config, repo=root, command="fix", request_id=run_id,
                               intent=intent, tier=tier, method=decision.method, attempt=attempt)
            with waiting(f"asking {models[0]} (attempt {attempt}/{max_attempts})", quiet=opts.quiet):
                result = complete(call, messages, models=models,
                                  max_tokens=int(config.get("settings.max_output_tokens", 4096)))
            outcome.cost += cost_of(config, result)
            served = result.model_served
            messages.append({"role": "assistant", "content": result.content})
            try:
                last = try_reply(root, base, scratch, config, result.content,
                                 cut_off=result.finish_reason == "length", test=test, lint=lint,
                                 outcome=outcome)
            except PathRefused as exc:
                record(root, config, run_id, "apply", False, model=served, tier=tier, intent=intent,
                       detail="path outside the repository")
                raise AtlasError(f"the model's edit was refused: {exc.message}; no branch was created",
                                 hint="this looks like a malicious or confused reply") from exc
            applied = last.report is not None
            record(root, config, run_id, "apply", applied, model=served, tier=tier, intent=intent,
                   detail=None if applied else last.problems[:400])
            if last.report is not None:
                outcome.checks, outcome.files = last.report, last.changed or []
                record(root, config, run_id, "test", last.report.ok, model=served, tier=tier,
                       intent=intent, detail=None if last.report.ok else last.report.feedback(400))
            if last.already_present:
                outcome.status = "unchanged"
                outcome.errors.append("the requested change is already present at the base")
                break
            if not last.problems:
                try:
                    outcome.commit = commit_proposal(scratch, request=opts.request,
                                                     trailers=trailers("passed"), branch=name)
                except wtmod.HookRejected as exc:
                    assert last.report is not None
                    last.report.failures.append(CheckFailure("hook", None, exc.detail))
                    last.problems = "The repository's commit hooks rejected the change:\n" + exc.detail
                else:
                    outcome.branch, outcome.status = name, "proposed"
                    break
            outcome.errors.append(f"attempt {attempt}: {' '.join(last.problems.split())[:300]}")
            if attempt == max_attempts:
                break
            failures_at_tier += 1
            messages.append({"role": "user", "content": retry_prompt(last.problems, mode=mode)})
            if can_escalate and failures_at_tier >= FAILURES_BEFORE_ESCALATION:
                prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
                up = next_tier(config, tier, prompt_tokens, intent, root)
                if up is not None:
                    tier, models = up
                    failures_at_tier = 0
                    outcome.extra.setdefault("escalations", []).append(tier)
        outcome.extra.update({"intent": intent, "tier": tier, "model": served})
        if outcome.status == "failed":
            _keep_failed_attempt(scratch, opts, outcome, last, trailers("failed"), name)
        elif opts.run_generated:
            from atlas_git.core.executor.fixer import run_generated

            outcome.extra["run"] = run_generated(scratch.path, outcome.files, config)
    return outcome


def _keep_failed_attempt(scratch: wtmod.Scratch, opts: FixOptions, outcome: Outcome, last: Attempt,
                         trailers: dict[str, str], name: str) -> None:
    """When the last reply applied but its checks failed, keep it as a flagged proposal."""
    if last.report is None or (last.report.ok and not last.problems):
        outcome.status, outcome.files = "failed", []
        return
    try:
        outcome.commit = commit_proposal(scratch, request=opts.request, trailers=trailers, branch=name)
    except wtmod.HookRejected:
        outcome.status, outcome.files = "failed", []
        return
    outcome.branch, outcome.status = name, "checks-failed"
