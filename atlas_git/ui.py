"""Terminal output: plain functions, colour only when wanted.

Human output goes to stderr (or stdout for the main result); machine output
(``--json``, ``--format``) goes to stdout only. Colour honours ``NO_COLOR``,
``FORCE_COLOR`` and whether the stream is a terminal.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

_COLORS = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36,
           "bold": 1, "dim": 2}
_force: bool | None = None


def set_color(value: bool | None) -> None:
    """``--color/--no-color`` from the command line (None = automatic)."""
    global _force
    _force = value


def use_color(stream: TextIO) -> bool:
    if _force is not None:
        return _force
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def style(text: str, color: str, stream: TextIO | None = None) -> str:
    stream = stream or sys.stdout
    if not use_color(stream) or color not in _COLORS:
        return text
    return f"\033[{_COLORS[color]}m{text}\033[0m"


def out(text: str = "") -> None:
    """The command's result, on stdout."""
    sys.stdout.write(text + "\n")


def info(text: str) -> None:
    """Progress and notes, on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    sys.stderr.write(style("atlas: warning: ", "yellow", sys.stderr) + text + "\n")
    sys.stderr.flush()
