"""``git atlas apply [FILE|-]``."""

from __future__ import annotations

import click

from atlas_git.commands.apply import apply as run_apply


@click.command()
@click.argument("source", default="-", metavar="[FILE|-]")
@click.option("--json", "json_out", is_flag=True, help="Print the result as JSON.")
@click.option("--base", metavar="REV", help="Apply onto REV instead of HEAD.")
@click.option("--branch", metavar="NAME", help="Name of the proposal branch (default atlas/<id>-apply).")
@click.option("--no-test", is_flag=True, help="Skip the configured lint/test commands.")
@click.option("--test", "test_cmd", metavar="CMD", help="Test command to run on the result.")
def apply(source: str, json_out: bool, base: str | None, branch: str | None, no_test: bool,
          test_cmd: str | None) -> int:
    """Apply an edit (unified diff, SEARCH/REPLACE or whole files; fenced or in prose) as a proposal.

    Exit 0 only when every hunk applied (and the checks passed); partial or
    refused edits exit 1 and create no branch; bad input exits 2.
    """
    return run_apply(source, base=base, branch=branch, no_test=no_test, test=test_cmd, json_out=json_out)
