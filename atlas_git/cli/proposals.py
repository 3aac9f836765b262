"""``git atlas proposals | show | accept | discard | gc``."""

from __future__ import annotations

import click

from atlas_git.commands import proposals as cmd


@click.command()
@click.option("--json", "json_out", is_flag=True, help="Print the list as JSON.")
def proposals(json_out: bool) -> int:
    """List proposal branches (atlas/*) with request, model, cost and status."""
    return cmd.proposals(json_out=json_out)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--json", "json_out", is_flag=True, help="Print metadata and diff as JSON.")
def show(ident: str, json_out: bool) -> int:
    """Show a proposal's metadata and diff."""
    return cmd.show(ident, json_out=json_out)


@click.command()
@click.argument("ident", metavar="ID")
@click.option("--squash", is_flag=True, help="Stage the changes on the current branch without committing.")
def accept(ident: str, squash: bool) -> int:
    """Bring a proposal into the current branch (refuses if it would clash with uncommitted work)."""
    return cmd.accept(ident, squash=squash)


@click.command()
@click.argument("ident", metavar="ID")
def discard(ident: str) -> int:
    """Delete a proposal branch."""
    return cmd.discard(ident)


@click.command()
@click.option("--json", "json_out", is_flag=True, help="Print what was removed as JSON.")
def gc(json_out: bool) -> int:
    """Remove leftovers of interrupted runs (worktrees, locks, incomplete branches)."""
    return cmd.gc(json_out=json_out)
