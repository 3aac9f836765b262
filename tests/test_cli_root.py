from __future__ import annotations

import os
from pathlib import Path

from atlas_git import __version__
from tests.conftest import run_cli


def test_version_and_help() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    proc = run_cli("--help")
    assert proc.returncode == 0 and "atlas-git" in proc.stdout


def test_unknown_command_is_usage_error_without_traceback() -> None:
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_git_atlas_entry_point_on_path(tmp_path: Path) -> None:
    import shutil
    import subprocess

    exe = shutil.which("git-atlas")
    assert exe, "the git-atlas console script must be installed"
    proc = subprocess.run(["git", "atlas", "--version"], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{Path(exe).parent}:{os.environ['PATH']}"})
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_demo_runs_offline_and_leaves_nothing() -> None:
    proc = run_cli("demo", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "unchanged (clean)" in proc.stdout
