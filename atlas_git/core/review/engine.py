"""The review pipeline: diff -> built-in checks -> (maybe) LLM review -> result.

Built-in checks always run. The LLM part runs unless the caller asked for
``offline``, the repo disabled LLM calls, or we are inside atlas's own
proposal commit (``ATLAS_PROPOSAL_COMMIT=1``: no recursive paid review). When
it cannot run (no key, provider down, timeout, budget) the result says why
and ``llm_failed`` is set; the caller decides fail-open or fail-closed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atlas_git.config import Config
from atlas_git.core.review import builtin
from atlas_git.core.review.diff import FileDiff, Selection, blob_sizes, diff_files, read_blobs
from atlas_git.core.review.findings import Finding, ReviewResult

# Files above this are not parsed by the syntax checks (the size check covers them).
SYNTAX_MAX_BYTES = 5_000_000


@dataclass
class ReviewRequest:
    """What to review: a selection (staged or a range), optional paths, offline or not.

    ``cwd`` is where git runs: pathspecs are relative to it, as on the command line.
    """

    selection: Selection
    paths: Sequence[str] = ()
    offline: bool = False
    cwd: Path | None = None


class _Blobs:
    """Reads new/old contents by blob id, once, on demand."""

    def __init__(self, cwd: Path | None) -> None:
        self.cwd = cwd

    def new(self, files: Sequence[FileDiff], limit: int | None = None,
            sizes: Mapping[str, int] | None = None) -> dict[str, bytes]:
        wanted = [f for f in files if f.new_sha and (
            limit is None or sizes is None or sizes.get(f.new_sha, 0) <= limit)]
        blobs = read_blobs([f.new_sha for f in wanted], cwd=self.cwd)
        return {f.path: blobs[f.new_sha] for f in wanted if f.new_sha in blobs}

    def old(self, files: Sequence[FileDiff]) -> dict[str, bytes]:
        blobs = read_blobs([f.old_sha for f in files if f.old_sha], cwd=self.cwd)
        return {f.path: blobs[f.old_sha] for f in files if f.old_sha in blobs}


def _llm_block_reason(offline: bool, env: Mapping[str, str]) -> str | None:
    """Why the LLM part is not wanted at all (None = it should run)."""
    if offline:
        return "LLM review: skipped (--offline)"
    if env.get("ATLAS_PROPOSAL_COMMIT") == "1":
        return "LLM review: skipped inside an atlas proposal commit (built-in checks only)"
    return None


def _llm_unavailable(config: Config) -> str | None:
    """Why the LLM part cannot run before trying (None = try it)."""
    if not config.get("settings.llm", True):
        return "LLM review did not run: LLM calls are disabled (settings.llm = false)"
    from atlas_git.provider_settings import resolve

    try:
        settings = resolve(config)
    except Exception as exc:  # a broken key file must not block a commit (fail-open)
        return f"LLM review did not run: {' '.join(str(exc).split())}"
    if settings.is_openrouter and not settings.api_key:
        return ("LLM review did not run: no API key "
                "(export OPENROUTER_API_KEY, or set ATLAS_BASE_URL for a local server)")
    return None


def run_review(request: ReviewRequest, config: Config, repo: Path | None,
               env: Mapping[str, str] | None = None) -> ReviewResult:
    """Review the selected changes; never touches the working tree or the index."""
    environ = os.environ if env is None else env
    cwd = request.cwd
    files = diff_files(request.selection, request.paths, cwd=cwd)
    result = ReviewResult(files=len(files))
    blobs = _Blobs(cwd)

    limit = int(config.get("review.max_added_file_bytes", 1_000_000) or 0)
    candidates = builtin.syntax_candidates(files)
    sized = [f for f in files if f.new_sha and (f.is_new or f.path in candidates)]
    sizes = blob_sizes([f.new_sha for f in sized], cwd=cwd) if sized else {}

    findings: list[Finding] = []
    for f in files:
        findings += builtin.line_checks(f)
        if limit:
            findings += builtin.check_large_file(f, sizes.get(f.new_sha), limit)
    to_parse = [f for f in files if f.path in candidates]
    contents = blobs.new(to_parse, SYNTAX_MAX_BYTES, sizes) if to_parse else {}
    findings += builtin.check_syntax(files, contents, blobs.old)
    result.findings = findings = builtin.drop_debuggers_in_strings(findings, contents)

    blocked = _llm_block_reason(request.offline, environ)
    if blocked is not None:
        result.reason = blocked
        return result
    unavailable = _llm_unavailable(config)
    if unavailable is not None:
        result.reason, result.llm_failed = unavailable, True
        return result
    from atlas_git.core.review import llm

    def fetch(fs: Sequence[FileDiff]) -> Mapping[str, bytes]:
        return blobs.new(fs, llm.MAX_CONTENT_BYTES, blob_sizes([f.new_sha for f in fs], cwd=cwd))

    try:
        outcome = llm.run(files, fetch, config, repo)
    except Exception as exc:  # fail-open: a bug in the advisory part must not block a commit
        result.reason = f"LLM review did not run: internal error ({type(exc).__name__}: {exc})"
        result.llm_failed = True
        return result
    result.ran_llm = outcome.ran
    result.llm_failed = outcome.failed
    result.reason = outcome.reason
    result.notes += outcome.notes
    result.cost = outcome.cost
    result.cached = bool(outcome.cached) and outcome.calls == 0
    result.findings += _without_builtin_overlap(outcome.findings, findings)
    return result


def _without_builtin_overlap(llm_findings: Sequence[Finding], builtin_findings: Sequence[Finding]
                             ) -> list[Finding]:
    """Drop LLM findings that restate a built-in finding on the same line."""
    taken = {(f.path, f.line) for f in builtin_findings}
    words = ("syntax", "secret", "debugger", "breakpoint", "conflict", "credential", "api key")
    return [f for f in llm_findings
            if (f.path, f.line) not in taken or not any(w in f.message.lower() for w in words)]
