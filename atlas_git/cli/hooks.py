"""``git atlas hooks``: install or remove the native review hooks."""

from __future__ import annotations

import click

from atlas_git.cli import run_command

_TYPES = ("pre-commit", "pre-push")
_type_option = click.option(
    "--type", "types", type=click.Choice(_TYPES), multiple=True,
    help="Hook type (repeatable; default pre-commit).")


@click.group(invoke_without_command=True)
@click.pass_context
def hooks(ctx: click.Context) -> int | None:
    """Install the review as a git hook (honours core.hooksPath; chains an existing hook).

    With no subcommand, shows which hooks are installed. The pre-commit
    framework users add the `atlas-review` hook from .pre-commit-hooks.yaml instead.
    """
    if ctx.invoked_subcommand is not None:
        return None
    from atlas_git.commands import hooks as cmd

    return run_command(cmd.status)


@hooks.command("install")
@_type_option
def install(types: tuple[str, ...]) -> int:
    """Install the hook; an existing hook is kept and runs first."""
    from atlas_git.commands import hooks as cmd

    return run_command(cmd.install, types)


@hooks.command("uninstall")
@_type_option
def uninstall(types: tuple[str, ...]) -> int:
    """Remove the hook and restore the one it chained."""
    from atlas_git.commands import hooks as cmd

    return run_command(cmd.uninstall, types)


@hooks.command("status")
def status() -> int:
    """Show which hooks are installed."""
    from atlas_git.commands import hooks as cmd

    return run_command(cmd.status)
