"""``git atlas demo``: the tool's main jobs on a throwaway repo, fully offline."""

from __future__ import annotations

import click

from atlas_git.commands.demo import run_demo


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo repository and print its path.")
def demo(keep: bool) -> int:
    """Show routing, review and a proposal branch on a temporary repo (no key, no network)."""
    return run_demo(keep=keep)
