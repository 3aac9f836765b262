"""``git atlas export|import FILE`` and ``git atlas memory show|clear``."""

from __future__ import annotations

import click

from atlas_git.cli import run_command


@click.command("export")
@click.argument("file")
def export_cmd(file: str) -> int:
    """Write all .atlas data (ledger, memory, config, price cache) to FILE (JSON Lines; - = stdout)."""
    from atlas_git.commands import data as cmd

    return run_command(cmd.export, file)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def import_cmd(file: str) -> int:
    """Merge an export into this repository's .atlas data (duplicates skipped)."""
    from atlas_git.commands import data as cmd

    return run_command(cmd.import_file, file)


@click.group()
def memory() -> None:
    """The bounded history of requests, decisions and outcomes (.atlas/memory.jsonl)."""


@memory.command("show")
@click.option("-n", "--limit", type=click.IntRange(1, 100000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines.")
def show_cmd(limit: int, as_json: bool) -> int:
    """Print the most recent entries."""
    from atlas_git.commands import data as cmd

    return run_command(cmd.memory_show, limit, as_json)


@memory.command("clear")
def clear_cmd() -> int:
    """Delete the history."""
    from atlas_git.commands import data as cmd

    return run_command(cmd.memory_clear)
