"""``git atlas budget ...``: spending status, limits, analytics, repair."""

from __future__ import annotations

import click

from atlas_git.cli import run_command

_WINDOWS = ("daily", "weekly", "monthly", "request")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (windows, warning_level, ...).")
@click.option("--upstream/--no-upstream", default=None,
              help="Also show the provider key's own limit and usage (default: on for OpenRouter).")
@click.pass_context
def budget(ctx: click.Context, as_json: bool, upstream: bool | None) -> int | None:
    """Show spend and remaining budget per window (daily, weekly, monthly).

    Windows start at midnight, Monday and the 1st in settings.timezone
    ("local" by default). Limits: `budget set` (local, .atlas/budget.toml) or
    `budget set --team` (.atlas/config.toml [budget]); the stricter applies.
    If the ledger is damaged, run `git atlas budget repair`.
    """
    if ctx.invoked_subcommand is not None:
        return None
    from atlas_git.commands import budget as cmd

    return run_command(cmd.show, as_json, upstream)


_TEAM_HELP = "Write the committable team config (.atlas/config.toml) instead of local state."


@budget.command("set")
@click.argument("window", type=click.Choice(_WINDOWS))
@click.argument("amount")
@click.option("--team", is_flag=True, help=_TEAM_HELP)
def set_cmd(window: str, amount: str, team: bool) -> int:
    """Set a limit in USD: `git atlas budget set daily 5`.

    Local limits go to .atlas/budget.toml (never committed); team limits to
    .atlas/config.toml. When both are set, the stricter applies.
    """
    from atlas_git.commands import budget as cmd

    return run_command(cmd.set_limit, window, amount, team)


@budget.command("unset")
@click.argument("window", type=click.Choice((*_WINDOWS, "all")))
@click.option("--team", is_flag=True, help=_TEAM_HELP)
def unset_cmd(window: str, team: bool) -> int:
    """Remove a limit (or all of them)."""
    from atlas_git.commands import budget as cmd

    return run_command(cmd.unset_limit, window, team)


@budget.command("analytics")
@click.option("--days", type=int, default=30, show_default=True, help="How many calendar days.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def analytics_cmd(days: int, fmt: str) -> int:
    """Spend by day, model and intent, success rates and recommendations."""
    from atlas_git.commands import budget as cmd

    return run_command(cmd.show_analytics, days, fmt)


@budget.command("repair")
def repair_cmd() -> int:
    """Check the ledger; move a damaged one aside and start a new one."""
    from atlas_git.commands import budget as cmd

    return run_command(cmd.repair)
