"""Messages sent to the model for each intent.

The system prompts come from ``config/prompts.toml`` (teams can override
them); the request and context are wrapped so the model treats them as data.
Every text passes through the secrets guard before it leaves.
"""

from __future__ import annotations

from atlas_git.config import Config
from atlas_git.core.executor.context import Context, guard_text, render

_INTENT_HINTS = {
    "generate": "Create the new code the request asks for. New files use an empty SEARCH section.",
    "edit": "Change the existing code as asked; keep everything else as it is.",
    "debug": "Find the cause of the failure and fix it; the real error output is included.",
    "optimize": "Make the code faster or leaner without changing its behaviour.",
    "format": "Change formatting only; no behaviour change.",
}


def system_prompt(config: Config, intent: str) -> str:
    """The configured system prompt for ``intent`` (edit format for all editing intents)."""
    key = "prompts.explain" if intent == "explain" else "prompts.edit"
    text = str(config.get(key, "") or "")
    hint = _INTENT_HINTS.get(intent)
    return f"{text}\n\n{hint}" if hint else text


STAGED_DIFF_CHARS = 12_000


def user_prompt(request: str, ctx: Context, *, evidence: str = "", staged_diff: str = "",
                mode: str = "redact") -> str:
    """The request, optional evidence (captured errors) and staged diff, and the files."""
    parts = [f"Request:\n{request.strip()}"]
    if evidence:
        parts.append(f"Output of running the failing code in a sandbox:\n```\n{evidence.strip()}\n```")
    if staged_diff:
        diff = staged_diff if len(staged_diff) <= STAGED_DIFF_CHARS else \
            staged_diff[:STAGED_DIFF_CHARS] + "\n... [atlas: rest of the diff omitted] ...\n"
        parts.append("The developer's staged changes (already included in the files below):\n"
                     f"```diff\n{diff.rstrip()}\n```")
    if ctx.files:
        parts.append("Files (paths are relative to the repository root):\n\n" + render(ctx))
    else:
        parts.append("No existing files were selected; create new files as needed.")
    text = "\n\n".join(parts)
    clean, _ = guard_text(text, mode, what="the request")
    return clean


def retry_prompt(problems: str, *, mode: str = "redact") -> str:
    """What the model is told after a failed attempt."""
    text = (
        "Your previous edit could not be accepted:\n\n"
        f"{problems.strip()}\n\n"
        "Reply again with the complete set of SEARCH/REPLACE blocks against the ORIGINAL files "
        "shown above (not against your previous attempt). Copy SEARCH lines exactly."
    )
    clean, _ = guard_text(text, mode, what="the check output")
    return clean


def build_messages(config: Config, intent: str, request: str, ctx: Context, *,
                   evidence: str = "", staged_diff: str = "") -> list[dict[str, str]]:
    """The first attempt's messages."""
    mode = str(config.get("secrets.mode", "redact"))
    content = user_prompt(request, ctx, evidence=evidence, staged_diff=staged_diff, mode=mode)
    return [
        {"role": "system", "content": system_prompt(config, intent)},
        {"role": "user", "content": content},
    ]


def cut_off_note() -> str:
    """Told to the model when its reply hit the token limit."""
    return ("Your reply was cut off at the output token limit. Send only the SEARCH/REPLACE blocks "
            "that change something, with short SEARCH sections.")
