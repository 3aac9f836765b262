"""``git atlas review``: review staged changes, a branch, or a range.

Exit codes: 0 nothing blocking; 1 a finding at or above the fail-on level
(built-in findings use ``--fail-on`` or ``review.fail_on``; LLM findings are
advisory unless ``--fail-on`` is given or ``review.fail_on_llm`` is set);
4 (``EXIT_LLM_SKIPPED``) when the LLM part did not run and
``review.llm_fail_closed = true`` and nothing else blocked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from atlas_git import ui
from atlas_git.errors import EXIT_FAILURE, EXIT_LLM_SKIPPED, EXIT_OK, AtlasError, UsageError

FAIL_ON = ("error", "warning", "info", "never")
HOOK_IDS = frozenset({"atlas-review", "atlas-review-offline"})


def skip_requested(env: Mapping[str, str]) -> str | None:
    """The variable that asks to skip this hook (``SKIP``/``ATLAS_SKIP`` lists), if any."""
    for var in ("ATLAS_SKIP", "SKIP"):
        ids = {part.strip() for part in env.get(var, "").split(",")}
        if ids & HOOK_IDS or (var == "ATLAS_SKIP" and ids & {"1", "all", "review"}):
            return var
    return None


def _threshold(value: object, origin: str) -> str:
    text = str(value).lower()
    if text not in FAIL_ON:
        raise UsageError(f"{origin} must be one of {', '.join(FAIL_ON)} (got {value!r})")
    return text


def _blocks(severity: str, threshold: str) -> bool:
    from atlas_git.core.review.findings import severity_rank

    return threshold != "never" and severity_rank(severity) >= severity_rank(threshold)


def split_args(args: Sequence[str], cwd: Path | None = None) -> tuple[str | None, list[str]]:
    """``[RANGE] [PATHS...]``: the first argument is a range when it contains ``..``.

    A single commit that is not also a path (``git atlas review HEAD``) means the
    changes that commit made: ``COMMIT^..COMMIT`` (against the empty tree for a root).
    """
    if not args or os.path.exists(os.path.join(cwd or ".", args[0])):
        return None, list(args)
    first = args[0]
    if ".." in first:
        return first, list(args[1:])
    from atlas_git.adapters import git

    if first.startswith("-"):
        return None, list(args)
    rc, out, _ = git.run(["rev-parse", "--verify", "-q", "--end-of-options", f"{first}^{{commit}}"],
                         cwd=cwd, check=False)
    if rc != 0:
        return None, list(args)
    commit = out.strip()
    rc, parent, _ = git.run(["rev-parse", "--verify", "-q", f"{commit}^"], cwd=cwd, check=False)
    from atlas_git.core.review.diff import empty_tree

    base = parent.strip() if rc == 0 else empty_tree(cwd)
    return f"{base}..{commit}", list(args[1:])


def run(*, staged: bool = False, base: str | None = None, args: Sequence[str] = (),
        offline: bool = False, fmt: str = "text", fail_on: str | None = None,
        output: str | None = None, cwd: Path | None = None) -> int:
    """Review the selected changes, print them in ``fmt``, return the exit code."""
    env = os.environ
    skipped_by = skip_requested(env)
    if skipped_by is not None:
        ui.info(f"atlas-review: skipped ({skipped_by}={env.get(skipped_by)})")
        return EXIT_OK
    from atlas_git.adapters import git
    from atlas_git.config import load_config
    from atlas_git.core.review import diff, engine, formats

    if fmt not in formats.FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"choose one of {', '.join(formats.FORMATS)}")
    git.repo_root(cwd)  # a clear error outside a repository
    repo = git.main_worktree(cwd)
    config = load_config(repo)
    builtin_level = _threshold(fail_on or config.get("review.fail_on", "error"),
                               "--fail-on" if fail_on else "review.fail_on")
    llm_level = _threshold(fail_on or config.get("review.fail_on_llm", "never"),
                           "--fail-on" if fail_on else "review.fail_on_llm")
    rev_range, paths = split_args(args, cwd)
    selection = diff.select(staged=staged, base=base, rev_range=rev_range, env=dict(env))
    request = engine.ReviewRequest(selection, paths, offline, cwd)
    result = engine.run_review(request, config, repo, env)

    rendered = formats.render(result, fmt, sys.stderr if output and fmt == "text" else sys.stdout)
    _emit(rendered, fmt, output)
    for note in result.notes:
        ui.info(f"atlas: note: {note}")
    if result.llm_failed:
        ui.warn(result.reason)  # the ONE line saying the LLM part did not run, and why

    blocking = [f for f in result.findings
                if _blocks(f.severity, llm_level if f.source == "llm" else builtin_level)]
    if blocking:
        return EXIT_FAILURE
    if result.llm_failed and config.get("review.llm_fail_closed", False):
        ui.info("atlas: review.llm_fail_closed = true: failing because the LLM review did not run "
                f"(exit {EXIT_LLM_SKIPPED})")
        return EXIT_LLM_SKIPPED
    return EXIT_OK


def _emit(text: str, fmt: str, output: str | None) -> None:
    """Write the report as bytes: odd bytes in file names survive in text, and machine
    formats stay valid UTF-8 (undecodable bytes become U+FFFD there)."""
    data = text.encode("utf-8", "surrogateescape")
    if fmt != "text" and fmt != "github":
        data = data.decode("utf-8", "replace").encode("utf-8")
    if output:
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise AtlasError(f"cannot write {output}: {exc.strerror}") from exc
        return
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (some test runners)
        sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()
