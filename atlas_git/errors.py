"""The one user-facing error type and the documented exit codes."""

from __future__ import annotations

# Exit codes are a contract with scripts and CI (see README "Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # findings or a failure the user must act on
EXIT_USAGE = 2  # bad flags, bad input, bad config value
EXIT_UNEXPECTED = 3  # a bug: a log with the traceback is written
EXIT_LLM_SKIPPED = 4  # fail-closed mode only: the LLM part did not run
EXIT_INTERRUPTED = 130


class AtlasError(Exception):
    """An error the user can understand and act on.

    The CLI prints ``str(error)`` on one line (no traceback) and exits with
    ``exit_code``. ``hint`` is an optional second sentence saying how to fix it.
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILURE, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        # One line, always: multi-line details belong in the log, not the terminal.
        return " ".join(text.split())


class UsageError(AtlasError):
    """Bad input from the user: exit code 2, nothing changed."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, exit_code=EXIT_USAGE, hint=hint)
