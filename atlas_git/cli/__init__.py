"""Command-line entry point: ``git atlas ...`` / ``git-atlas`` / ``python -m atlas_git``.

Subcommands are imported lazily (see ``_COMMANDS``) so that ``git atlas route``
never pays for the imports of ``review`` or ``budget``: cold start matters for
a tool that runs on every commit. Each subcommand lives in its own
``atlas_git/cli/<name>.py`` and calls into ``atlas_git/commands/``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from atlas_git import __version__
from atlas_git.errors import (
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    AtlasError,
)
from atlas_git.registry import COMMANDS as _COMMANDS
from atlas_git.registry import available as _available


class LazyGroup(click.Group):
    """A click group that imports a subcommand only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in _COMMANDS if _available(n)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS and _available(cmd_name):
            module_name, attr = _COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="git-atlas")
def cli() -> None:
    """atlas-git: an AI coding assistant that lives inside git.

    Routes each request to the cheapest model that can do it, proposes edits as
    commits on scratch branches, reviews staged changes, and keeps spending under
    hard limits recorded in .atlas/.
    """


def _write_crash_log(exc: BaseException) -> str:
    """Write versions + traceback to the user cache dir; return its path."""
    import platform
    import traceback

    from atlas_git.paths import user_cache_dir

    path = user_cache_dir() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- atlas-git {__version__} python {platform.python_version()} "
                     f"{platform.platform()}\nargv: {sys.argv!r}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return str(path)
    except OSError:
        return "(could not write a log)"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and map every outcome to a documented exit code."""
    prog = "git atlas" if os.path.basename(sys.argv[0]).startswith("git-atlas") else "atlas"
    try:
        rv = cli.main(args=argv, prog_name=prog, standalone_mode=False)
        return int(rv or 0) if isinstance(rv, int) else 0
    except AtlasError as exc:
        click.echo(f"atlas: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("atlas: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        click.echo(f"atlas: error: {' '.join(exc.format_message().split())}", err=True)
        return EXIT_USAGE if isinstance(exc, click.UsageError) or exc.exit_code == 2 else exc.exit_code
    except KeyboardInterrupt:
        click.echo("atlas: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `git atlas ... | head`: not an error worth a traceback.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except Exception as exc:
        log = _write_crash_log(exc)
        click.echo(f"atlas: unexpected error: {type(exc).__name__}: "
                   f"{' '.join(str(exc).split())[:200]} (details in {log})", err=True)
        return EXIT_UNEXPECTED


def run_command(func: Any, *args: Any, **kwargs: Any) -> int:
    """Call a ``commands`` function and exit with its return code."""
    rc = func(*args, **kwargs)
    return int(rc or 0)
