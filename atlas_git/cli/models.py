"""``git atlas models ...``: prices by tier, refresh, a test call."""

from __future__ import annotations

import click

from atlas_git.cli import run_command


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> int | None:
    """List the models of each tier with their prices (USD per million tokens)."""
    if ctx.invoked_subcommand is not None:
        return None
    from atlas_git.commands import models as cmd

    return run_command(cmd.list_models, as_json)


@models.command("refresh")
def refresh_cmd() -> int:
    """Fetch current prices from the provider's /models into a cache."""
    from atlas_git.commands import models as cmd

    return run_command(cmd.refresh)


@models.command("test")
@click.argument("model", nargs=-1, required=True)
@click.option("--count", type=int, default=1, show_default=True,
              help="Make up to this many calls; stop at the first refusal.")
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=16, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per call.")
@click.option("--budget-override", is_flag=True, help="Ignore limits for these calls (logged).")
def test_cmd(model: tuple[str, ...], count: int, max_tokens: int, as_json: bool,
             budget_override: bool) -> int:
    """Make one tiny metered call to MODEL (more MODELs are fallbacks, in order)."""
    from atlas_git.commands import models as cmd

    return run_command(cmd.test_call, model, count, max_tokens, as_json, budget_override)
