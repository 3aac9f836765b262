"""Hermetic test environment shared by the whole suite.

Every test gets an isolated HOME/XDG/ATLAS_HOME, no system git config, pinned
author dates, no provider keys from the real environment, and a provider base
URL on a closed loopback port so that nothing can reach the network by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_git.testing.fake_llm import FakeLLM

TEST_API_KEY = "sk-test-ATLAS-0123456789abcdef-NEVER-STORE"

_STRIP_PREFIXES = ("GIT_", "OPENROUTER_", "OPENAI_", "ATLAS_", "ANTHROPIC_", "GITHUB_",
                   "XDG_", "PRE_COMMIT", "SKIP")


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(_STRIP_PREFIXES) or key in ("NO_COLOR", "FORCE_COLOR", "CI"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("ATLAS_HOME", str(home / ".atlas-home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("GIT_EDITOR", "false")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    # A closed loopback port: a test that forgets to point at a fake fails fast, offline.
    monkeypatch.setenv("ATLAS_BASE_URL", "http://127.0.0.1:9/api/v1")
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Test\n\temail = t@example.com\n"
        "[commit]\n\tgpgsign = false\n"
    )
    yield home


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    """A scripted OpenAI-compatible server on loopback, wired into the environment."""
    with FakeLLM() as server:
        monkeypatch.setenv("ATLAS_BASE_URL", server.base_url)
        monkeypatch.setenv("ATLAS_API_KEY", TEST_API_KEY)
        yield server


def git(cwd: Path, *args: str) -> str:
    """Run git in a test repo (tests may call git directly; the product may not)."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# demo\n")
    (path / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``repo`` fixture as the current directory (for in-process CLI calls)."""
    monkeypatch.chdir(repo)
    return repo


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: ``(exit code, stdout, stderr)``."""
    from atlas_git.cli import main

    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def run_cli(*args: str, cwd: Path | None = None, input: str | bytes | None = None,
            env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (as users and hooks do)."""
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "atlas_git", *args], cwd=cwd, input=data, capture_output=True,
        env={**os.environ, **(env or {})}, timeout=timeout,
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))
