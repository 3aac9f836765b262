"""``git atlas stats``: latency, routing method mix, outcome success."""

from __future__ import annotations

import click

from atlas_git.cli import run_command


@click.command()
@click.option("--days", type=int, default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats(days: int, as_json: bool) -> int:
    """Latency p50/p95 per model, routing method mix, apply/test success per model and tier."""
    from atlas_git.commands import stats as cmd

    return run_command(cmd.stats, days, as_json)
