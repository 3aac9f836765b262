"""``git atlas fix`` and the explicit intents (edit, generate, debug, optimize, format, explain)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from atlas_git import ui
from atlas_git.adapters import git
from atlas_git.config import load_config
from atlas_git.core.executor.fixer import FixOptions, relative_paths, run_fix
from atlas_git.core.executor.pipeline import Outcome
from atlas_git.errors import EXIT_FAILURE, EXIT_OK, UsageError

# Above this estimated cost an interactive run asks first (``--yes`` skips it).
CONFIRM_ABOVE_USD = 0.25


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _print_plan(plan: dict[str, Any], *, explain: bool) -> None:
    decision = plan.get("decision") or {}
    if decision:
        ui.info(f"route: {decision.get('intent')} / {decision.get('tier')} -> {decision.get('model')} "
                f"({decision.get('method')}, confidence {decision.get('confidence')})")
        if explain and decision.get("reasoning"):
            ui.info(f"  why: {decision['reasoning']}")
        if explain and decision.get("alternatives"):
            ui.info(f"  fallbacks: {', '.join(decision['alternatives'])}")
    files = plan.get("files") or []
    ui.info(f"files: {', '.join(files) if files else '(none found; the model may create new files)'}")
    for path, reason in plan.get("skipped") or []:
        ui.info(f"  skipped {path}: {reason}")
    if plan.get("redactions"):
        ui.info(f"  redacted {plan['redactions']} secret(s) before sending")
    if "context_tokens" in plan:
        cost = _money(plan.get("estimated_cost"))
        ui.info(f"context: ~{plan['context_tokens']} tokens; estimated cost {cost}")


def _confirm(yes: bool, json_out: bool) -> Any:
    if yes or json_out or not sys.stdin.isatty():
        return None

    def ask(plan: dict[str, Any]) -> bool:
        cost = plan.get("estimated_cost")
        if cost is None or cost <= CONFIRM_ABOVE_USD:
            return True
        sys.stderr.write(f"Estimated cost {_money(cost)}. Continue? [y/N] ")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return ask


def _report(outcome: Outcome, *, output: Path | None) -> None:
    extra = outcome.extra
    if outcome.status == "explained":
        text = str(extra.get("text", ""))
        if output is not None:
            output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            ui.info(f"wrote {output} ({_money(outcome.cost)})")
        else:
            ui.out(text.rstrip("\n"))
        return
    if outcome.status == "dry-run":
        ui.out("dry run: nothing was sent and nothing was created")
        return
    if outcome.status == "cancelled":
        ui.info("cancelled: nothing was sent")
        return
    if outcome.status == "unchanged":
        msg = "; ".join(outcome.errors) if outcome.errors else "the files are already formatted"
        ui.out(f"no changes: {msg}")
        return
    for line in outcome.errors:
        ui.info(f"  {line}")
    if outcome.branch:
        checks = outcome.checks
        state = "checks passed" if checks is None or checks.ok else "CHECKS FAILED"
        ui.out(f"proposal {outcome.branch} ({(outcome.commit or '')[:10]}): {len(outcome.files)} file(s), "
               f"{outcome.attempts} attempt(s), cost {_money(outcome.cost)}, {state}")
        if checks is not None and not checks.ok:
            for failure in checks.failures[:5]:
                ui.info(f"  {' '.join(str(failure).split())[:300]}")
        for note in (checks.notes if checks else []):
            ui.info(f"  note: {note}")
        for run in extra.get("run", []):
            ui.out(f"--- {run['path']} (exit {run['returncode']})")
            ui.out(str(run["output"]).rstrip("\n"))
        if outcome.commit:
            ui.out(diffstat(outcome.commit))
        ident = outcome.run_id or outcome.branch
        ui.info(f"  git atlas show {ident} | git atlas accept {ident} | git atlas discard {ident}")
        return
    ui.out(f"no proposal: no usable edit after {outcome.attempts} attempt(s); "
           f"cost {_money(outcome.cost)}")


def diffstat(commit: str) -> str:
    """git's ``--stat`` of a proposal commit, for the summary."""
    _, out, _ = git.run(["diff", "--no-ext-diff", "--no-color", "--stat", f"{commit}^", commit], check=False)
    return out.rstrip("\n")


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The ``--json`` shape of a fix run."""
    data = outcome.to_apply_json()
    data.update({"id": outcome.run_id, "base": outcome.base, "cost": round(outcome.cost, 8),
                 "attempts": outcome.attempts})
    data["status"] = outcome.status
    for key in ("decision", "intent", "tier", "model", "text", "run", "skipped", "estimated_cost",
                "escalations", "evidence"):
        if key in outcome.extra:
            data[key] = outcome.extra[key]
    data.setdefault("files", outcome.files)
    if outcome.status == "dry-run":
        data["files"] = outcome.extra.get("files", [])
    return data


def fix(request: str, paths: list[str], *, intent: str | None = None, tier: str | None = None,
        model: str | None = None, dry_run: bool = False, explain: bool = False,
        base: str | None = None, staged: bool = False, test: str | None = None,
        no_test: bool = False, max_attempts: int | None = None, yes: bool = False,
        json_out: bool = False, run_generated: bool = False, output: str | None = None) -> int:
    """Run one request; returns the exit code."""
    root = git.repo_root()
    config = load_config(git.main_worktree(root))
    if max_attempts is not None and max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if test is not None and no_test:
        raise UsageError("--test and --no-test contradict each other")
    opts = FixOptions(
        request=request, paths=relative_paths(root, list(paths)), intent=intent, tier=tier,
        model=model, dry_run=dry_run, base=base, staged=staged, test_command=test, no_test=no_test,
        max_attempts=max_attempts, run_generated=run_generated, quiet=False,
    )
    ask = _confirm(yes, json_out)

    def before_spend(plan: dict[str, Any]) -> bool:
        if explain and not json_out:
            _print_plan(plan, explain=True)
        return ask(plan) if ask is not None else True

    opts.confirm = before_spend
    outcome = run_fix(root, opts, config)
    if not json_out and dry_run and outcome.extra:
        _print_plan(outcome.extra, explain=explain)
    if json_out:
        ui.out(json.dumps(outcome_json(outcome), indent=2, default=str))
        if outcome.status == "explained" and output:
            Path(output).write_text(str(outcome.extra.get("text", "")), encoding="utf-8")
    else:
        _report(outcome, output=Path(output) if output else None)
    return EXIT_OK if outcome.status in ("proposed", "dry-run", "explained", "unchanged",
                                         "cancelled") else EXIT_FAILURE
