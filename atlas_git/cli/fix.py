"""``git atlas fix`` and the explicit intents: edit, generate, debug, optimize, format, explain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from atlas_git.commands.fix import fix as run_fix

_TIERS = click.Choice(["silver", "gold", "platinum", "diamond"])


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every intent command shares."""
    options = [
        click.option("--tier", type=_TIERS, help="Force the tier (skips tier routing)."),
        click.option("--model", help="Force the model id."),
        click.option("--dry-run", is_flag=True, help="Show route, files and cost; spend nothing."),
        click.option("--explain", "explain_route", is_flag=True, help="Print why this route was chosen."),
        click.option("--base", metavar="REV", help="Start from REV instead of HEAD."),
        click.option("--staged", is_flag=True, help="Start from the staged changes."),
        click.option("--test", "test_cmd", metavar="CMD", help="Test command to run on the result."),
        click.option("--no-test", is_flag=True, help="Run no lint/test command (syntax checks still run)."),
        click.option("--max-attempts", type=int, metavar="N", help="Model attempts before giving up."),
        click.option("--yes", "-y", is_flag=True, help="Do not ask before an expensive call."),
        click.option("--json", "json_out", is_flag=True, help="Machine-readable result on stdout."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(request: str, paths: tuple[str, ...], intent: str | None, kw: dict[str, Any]) -> int:
    return run_fix(
        request, list(paths), intent=intent, tier=kw["tier"], model=kw["model"],
        dry_run=kw["dry_run"], explain=kw["explain_route"], base=kw["base"], staged=kw["staged"],
        test=kw["test_cmd"], no_test=kw["no_test"], max_attempts=kw["max_attempts"], yes=kw["yes"],
        json_out=kw["json_out"], run_generated=kw.get("run", False), output=kw.get("output"),
    )


@click.command()
@click.argument("request")
@click.argument("paths", nargs=-1, type=click.Path())
@_common
def fix(request: str, paths: tuple[str, ...], **kw: Any) -> int:
    """Turn REQUEST into a proposal branch (the intent is routed).

    Example: git atlas fix "handle empty input in parse()" src/parse.py
    """
    return _run(request, paths, None, kw)


def _intent_command(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.argument("request")
    @click.argument("paths", nargs=-1, type=click.Path())
    @_common
    def command(request: str, paths: tuple[str, ...], **kw: Any) -> int:
        return _run(request, paths, name, kw)

    return command


edit = _intent_command("edit", "Change existing code as REQUEST says; result is a proposal branch.")
debug = _intent_command("debug", "Fix a bug or failing test; the failure is reproduced first in a sandbox.")
optimize = _intent_command("optimize", "Make code faster or leaner without changing behaviour.")


@click.command()
@click.argument("request")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--run", is_flag=True, help="Run the generated Python/JS/shell/SQL in the sandbox.")
@_common
def generate(request: str, paths: tuple[str, ...], **kw: Any) -> int:
    """Write new code for REQUEST (new files allowed) as a proposal branch."""
    return _run(request, paths, "generate", kw)


@click.command()
@click.argument("request")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the answer to FILE.")
@_common
def explain(request: str, paths: tuple[str, ...], **kw: Any) -> int:
    """Answer REQUEST about the code (stdout or --output FILE); makes no branch."""
    return _run(request, paths, "explain", kw)


@click.command(name="format")
@click.argument("paths", nargs=-1, type=click.Path())
@_common
def format_cmd(paths: tuple[str, ...], **kw: Any) -> int:
    """Run the real formatters (ruff/black, prettier, shfmt) into a proposal branch at $0."""
    request = "format " + " ".join(paths) if paths else "format the repository"
    return _run(request, paths, "format", kw)
