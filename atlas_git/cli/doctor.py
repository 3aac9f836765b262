"""``git atlas doctor``: configuration, provider, embeddings, git; what to fix."""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--offline", is_flag=True, help="Do not check the provider over the network.")
def doctor(as_json: bool, offline: bool) -> int:
    """Show config sources, provider and key source (never the key), reachability,
    the embedding backend, git, and what is missing with how to fix it."""
    from atlas_git.commands.doctor import run_doctor

    return run_doctor(as_json=as_json, offline=offline)
