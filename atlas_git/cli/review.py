"""``git atlas review``: built-in checks plus an LLM review of a change."""

from __future__ import annotations

import click

from atlas_git.cli import run_command

_FORMATS = ("text", "json", "sarif", "github", "rdjson")


@click.command()
@click.option("--staged", is_flag=True, help="Review the index against HEAD (the default).")
@click.option("--base", metavar="REF", help="Review what HEAD adds since it forked from REF (REF...HEAD).")
@click.option("--offline", is_flag=True, help="Built-in checks only: no model, no cost, no network.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True,
              help="Output format (machine formats go to stdout only).")
@click.option("--fail-on", type=click.Choice(("error", "warning", "never")), default=None,
              help="Exit 1 on findings at or above this severity, LLM findings included "
                   "(default: review.fail_on for built-in checks; LLM findings advisory).")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout.")
@click.option("--color/--no-color", default=None, help="Force colour on or off (NO_COLOR is honoured).")
@click.argument("args", nargs=-1, metavar="[RANGE|COMMIT] [PATHS]...")
def review(staged: bool, base: str | None, offline: bool, fmt: str, fail_on: str | None,
           output: str | None, color: bool | None, args: tuple[str, ...]) -> int:
    """Review changes before they are committed (or a branch / a range in CI).

    With no selector the staged changes are reviewed, read from the index (never
    the working tree). RANGE is A..B or A...B; a single COMMIT means the changes
    it made. Built-in checks (syntax, conflict
    markers, secrets, debugger leftovers, large files) always run and their
    errors exit 1. The LLM review is advisory; if it cannot run, one line says
    why and the review still passes (exit 4 instead with review.llm_fail_closed).
    SKIP or ATLAS_SKIP containing atlas-review skips the review.
    """
    from atlas_git import ui
    from atlas_git.commands import review as cmd

    if color is not None:
        ui.set_color(color)
    return run_command(cmd.run, staged=staged, base=base, args=args, offline=offline, fmt=fmt,
                       fail_on=fail_on, output=output)
