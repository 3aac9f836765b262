"""Run untrusted commands (tests, linters, generated code) with limits.

A subprocess with a wall-clock limit, an output cap, an address-space limit,
an environment with no credentials, and no network where ``unshare -rn`` works
(probed once per process; when it does not, the run goes ahead with a note).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Variables that carry credentials; none of them may reach a sandboxed process.
_SECRET_ENV = re.compile(
    r"(_API_KEY|_TOKEN|_SECRET|_PASSWORD|_ACCESS_KEY|_SECRET_KEY)$|^(OPENROUTER_|ATLAS_API|"
    r"OPENAI_|ANTHROPIC_|AWS_|GITHUB_TOKEN|GH_TOKEN|GOOGLE_APPLICATION_CREDENTIALS|AZURE_)",
    re.IGNORECASE,
)
_no_network_prefix: list[str] | None = None
# Runs a .sql file statement by statement in an in-memory SQLite, printing rows.
_SQL_RUNNER = """
import sqlite3, sys
db = sqlite3.connect(':memory:')
buf = ''
for line in open(sys.argv[1], encoding='utf-8'):
    buf += line
    if sqlite3.complete_statement(buf):
        for row in db.execute(buf):
            print('|'.join('' if v is None else str(v) for v in row))
        buf = ''
if buf.strip():
    sys.exit('incomplete SQL statement at end of file')
"""


@dataclass
class SandboxResult:
    """What a sandboxed command did."""

    command: str
    returncode: int
    output: str  # stdout and stderr interleaved, capped
    duration: float
    timed_out: bool = False
    truncated: bool = False
    network_isolated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def safe_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment minus credentials and git location variables."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if _SECRET_ENV.search(key) or (key.startswith("GIT_") and key not in
                                       ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL")):
            del env[key]
    env["ATLAS_SANDBOX"] = "1"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def no_network_prefix() -> list[str]:
    """``["unshare", "-rn"]`` when an unprivileged network namespace works, else ``[]``."""
    global _no_network_prefix
    if _no_network_prefix is None:
        _no_network_prefix = []
        if shutil.which("unshare") and os.environ.get("ATLAS_SANDBOX_NETWORK") != "1":
            try:
                probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=5,
                                       check=False)
                if probe.returncode == 0:
                    _no_network_prefix = ["unshare", "-rn"]
            except (OSError, subprocess.TimeoutExpired):
                pass
    return list(_no_network_prefix)


def _limits(memory_bytes: int) -> None:  # pragma: no cover - runs in the child
    import resource

    os.setsid()  # own process group, so a timeout kills the whole tree
    if memory_bytes > 0:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_sandboxed(
    command: str | Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    timeout: float = 120.0,
    memory_mb: int = 2048,
    output_bytes: int = 200_000,
    stdin: bytes | None = None,
    network: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> SandboxResult:
    """Run ``command`` (a shell string or an argv list) under the sandbox limits."""
    argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
    shown = command if isinstance(command, str) else " ".join(command)
    prefix = [] if network else no_network_prefix()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [*prefix, *argv], cwd=cwd, env={**safe_env(), **(extra_env or {})}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=lambda: _limits(memory_mb * 1024 * 1024),
        )
    except OSError as exc:
        return SandboxResult(shown, 127, f"cannot run {shown}: {exc.strerror}", 0.0)
    timed_out = False
    try:
        out, _ = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_tree(proc)
        out, _ = proc.communicate()
    except BaseException:
        _kill_tree(proc)  # Ctrl-C / SIGTERM: leave no sandboxed process behind
        raise
    truncated = len(out) > output_bytes
    if truncated:
        # Keep head and tail: the error is usually at the end, the context at the start.
        half = output_bytes // 2
        out = out[:half] + b"\n... [output truncated] ...\n" + out[-half:]
    text = out.decode("utf-8", "replace")
    if timed_out:
        text += f"\n[timed out after {timeout:g}s]"
    return SandboxResult(shown, proc.returncode if not timed_out else -9, text,
                         time.monotonic() - started, timed_out, truncated, bool(prefix))


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


def interpreter_for(path: str) -> list[str] | None:
    """How to run a generated file by its extension (None = not runnable)."""
    import sys

    suffix = Path(path).suffix.lower()
    if suffix == ".py":
        return [sys.executable, path]
    if suffix in (".js", ".mjs", ".cjs") and shutil.which("node"):
        return ["node", path]
    if suffix in (".sh", ".bash"):
        return ["bash", path]
    if suffix == ".sql":
        # sqlite3 in memory through Python: no sqlite3 binary needed.
        return [sys.executable, "-c", _SQL_RUNNER, path]
    return None
