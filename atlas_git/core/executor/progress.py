"""A progress line on stderr while waiting on something slow (the model).

On a terminal: a spinner with elapsed seconds, erased when done. Otherwise
(CI logs, hooks, pipes): one plain line, so logs stay readable.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator


@contextlib.contextmanager
def waiting(label: str, *, quiet: bool = False) -> Iterator[None]:
    """Show ``label`` with a spinner (TTY) or once (non-TTY) for the duration."""
    stream = sys.stderr
    if quiet:
        yield
        return
    if not (hasattr(stream, "isatty") and stream.isatty()):
        stream.write(f"atlas: {label}...\n")
        stream.flush()
        yield
        return
    stop = threading.Event()
    started = time.monotonic()

    def spin() -> None:
        frames = "|/-\\"
        i = 0
        while not stop.wait(0.1):
            stream.write(f"\r{frames[i % 4]} {label} ({time.monotonic() - started:.1f}s)")
            stream.flush()
            i += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        stream.write("\r\033[K")
        stream.flush()
