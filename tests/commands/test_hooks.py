"""Hooks: native install/uninstall (chaining, core.hooksPath) and real commits through
git's own hooks and through the pre-commit framework."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from atlas_git.cli import main
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[2]


def commit(repo: Path, message: str = "change", *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-m", message, *extra], cwd=repo, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def quiet_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo whose provider fails fast (closed port, no retries)."""
    monkeypatch.chdir(repo)
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "config.toml").write_text("[provider]\nmax_retries = 0\n")
    git(repo, "add", ".atlas/config.toml")
    git(repo, "commit", "-qm", "atlas config", "--no-verify")
    return repo


def test_install_chains_existing_hook_and_uninstall_restores(quiet_repo: Path) -> None:
    hooks = quiet_repo / ".git" / "hooks"
    old = "#!/bin/sh\necho OLD-HOOK-RAN\n"
    (hooks / "pre-commit").write_text(old)
    (hooks / "pre-commit").chmod(0o755)
    assert main(["hooks", "install"]) == 0
    assert (hooks / "pre-commit.atlas-chained").read_text() == old
    assert "atlas-git managed hook" in (hooks / "pre-commit").read_text()
    assert main(["hooks", "install"]) == 0  # idempotent: the chained hook is not clobbered
    assert (hooks / "pre-commit.atlas-chained").read_text() == old

    (quiet_repo / "app.py").write_text("def add(a, b):\n    return a +\n")
    git(quiet_repo, "add", "app.py")
    proc = commit(quiet_repo)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "OLD-HOOK-RAN" in out and "app.py" in out and "syntax/python" in out

    assert main(["hooks", "uninstall"]) == 0
    assert (hooks / "pre-commit").read_text() == old
    assert not (hooks / "pre-commit.atlas-chained").exists()


def test_uninstall_leaves_foreign_hooks_alone(quiet_repo: Path) -> None:
    hook = quiet_repo / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert main(["hooks", "uninstall", "--type", "pre-push"]) == 1
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_honoured(quiet_repo: Path) -> None:
    git(quiet_repo, "config", "core.hooksPath", ".githooks")
    assert main(["hooks", "install"]) == 0
    assert (quiet_repo / ".githooks" / "pre-commit").is_file()
    assert not (quiet_repo / ".git" / "hooks" / "pre-commit").exists()
    (quiet_repo / "ok.py").write_text("x = 1\n")
    git(quiet_repo, "add", "ok.py")
    proc = commit(quiet_repo)
    assert proc.returncode == 0, proc.stderr
    assert "LLM review did not run" in proc.stderr


def test_native_hook_skip_and_proposal_commits(quiet_repo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["hooks", "install"]) == 0
    (quiet_repo / "bad.py").write_text("def f(:\n")
    git(quiet_repo, "add", "bad.py")
    monkeypatch.setenv("SKIP", "atlas-review")
    assert commit(quiet_repo, "skipped").returncode == 0
    monkeypatch.delenv("SKIP")
    monkeypatch.setenv("ATLAS_PROPOSAL_COMMIT", "1")
    (quiet_repo / "ok.py").write_text("x = 1\n")
    git(quiet_repo, "add", "ok.py")
    proc = commit(quiet_repo, "proposal")
    out = proc.stdout + proc.stderr  # git sends hook output to stderr
    assert proc.returncode == 0 and "proposal commit" in out and "did not run" not in out


def test_pre_push_hook_reviews_pushed_commits(quiet_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(quiet_repo, "remote", "add", "origin", str(remote))
    git(quiet_repo, "push", "-q", "origin", "main")
    assert main(["hooks", "install", "--type", "pre-push"]) == 0
    (quiet_repo / "bad.py").write_text("x = 1\ndef f(:\n")
    git(quiet_repo, "add", "bad.py")
    git(quiet_repo, "commit", "-qm", "bad", "--no-verify")
    proc = subprocess.run(["git", "push", "origin", "main"], cwd=quiet_repo, capture_output=True, text=True)
    assert proc.returncode != 0 and "bad.py" in proc.stdout + proc.stderr
    git(quiet_repo, "checkout", "-q", "-b", "clean", "HEAD~1")
    (quiet_repo / "good.py").write_text("x = 1\n")
    git(quiet_repo, "add", "good.py")
    git(quiet_repo, "commit", "-qm", "good", "--no-verify")
    proc = subprocess.run(["git", "push", "origin", "clean"], cwd=quiet_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the pre-commit framework --------------------------------------------------------------

def _local_config(hook_id: str) -> str:
    """The published hook, as a `repo: local` hook that runs this checkout (no network)."""
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = dict(next(h for h in manifest if h["id"] == hook_id))
    hook["entry"] = hook["entry"].replace("git-atlas", f"{sys.executable} -m atlas_git", 1)
    hook["language"] = "system"
    hook.pop("minimum_pre_commit_version", None)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}, sort_keys=False)


@pytest.fixture
def pc_repo(quiet_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit not installed")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    (quiet_repo / ".pre-commit-config.yaml").write_text(_local_config("atlas-review"))
    git(quiet_repo, "add", ".pre-commit-config.yaml")
    git(quiet_repo, "commit", "-qm", "pre-commit config", "--no-verify")
    subprocess.run(["pre-commit", "install"], cwd=quiet_repo, check=True, capture_output=True)
    return quiet_repo


def test_manifest_is_valid_for_pre_commit() -> None:
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit not installed")
    proc = subprocess.run(["pre-commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"atlas-review", "atlas-review-offline"}
    for hook in hooks.values():
        assert hook["pass_filenames"] is False and hook["require_serial"] is True
        assert hook["stages"] == ["pre-commit", "pre-push", "manual"] and hook["language"] == "python"
        assert hook["verbose"] is True  # advisory output is shown on a passing run
    assert "--offline" in hooks["atlas-review-offline"]["entry"]


@pytest.mark.parametrize(("content", "line", "rule"), [
    ("import os\n\ndef add(a, b):\n    return a +\n", 4, "syntax/python"),
    ("def add(a, b):\n    return a + b\n\nKEY = 'AKIA" + "Z7Q2KX4M9PLR3TWB'\n", 4,
     "secret/aws_access_key_id"),
])
def test_pre_commit_blocks_with_finding_at_the_right_line(pc_repo: Path, content: str, line: int,
                                                         rule: str) -> None:
    (pc_repo / "app.py").write_text(content)
    git(pc_repo, "add", "app.py")
    head = git(pc_repo, "rev-parse", "HEAD")
    proc = commit(pc_repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "atlas review" in out and "Failed" in out
    assert f"{line:>9}  error" in out and rule in out
    assert git(pc_repo, "rev-parse", "HEAD") == head


def test_pre_commit_clean_change_commits_and_unstaged_changes_survive(pc_repo: Path) -> None:
    (pc_repo / "app.py").write_text("def add(a, b):\n    return b + a\n")
    git(pc_repo, "add", "app.py")
    unstaged = "def add(a, b):\n    return b +\n"  # broken, but not staged: not reviewed
    (pc_repo / "app.py").write_text(unstaged)
    (pc_repo / "notes.txt").write_text("untracked\n")
    proc = commit(pc_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(pc_repo, "show", "HEAD:app.py") == "def add(a, b):\n    return b + a\n"
    assert (pc_repo / "app.py").read_text() == unstaged
    assert (pc_repo / "notes.txt").read_text() == "untracked\n"
    assert git(pc_repo, "status", "--porcelain", "--", "app.py") == " M app.py\n"


def test_pre_commit_passes_when_the_llm_server_is_down(pc_repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas_git.testing.fake_llm import FakeLLM

    with FakeLLM() as server:
        url = server.base_url
    # The server is stopped: its port is closed now.
    monkeypatch.setenv("ATLAS_BASE_URL", url)
    monkeypatch.setenv("ATLAS_API_KEY", "sk-test-server-down-0000000000000000")
    (pc_repo / "app.py").write_text("def add(a, b):\n    return a + b + 0\n")
    git(pc_repo, "add", "app.py")
    proc = commit(pc_repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out and "LLM review did not run" in out
    assert os.environ["ATLAS_BASE_URL"] == url


def test_commit_all_reviews_git_s_temporary_index(quiet_repo: Path) -> None:
    # `git commit -a` / `git commit PATH` build a temporary index and export GIT_INDEX_FILE:
    # the review must read that one, not .git/index.
    assert main(["hooks", "install"]) == 0
    (quiet_repo / "app.py").write_text("def add(a, b):\n    return a +\n")  # tracked, not staged
    proc = commit(quiet_repo, "all", "-a")
    assert proc.returncode == 1 and "syntax/python" in proc.stdout + proc.stderr
    proc = commit(quiet_repo, "only", "app.py")
    assert proc.returncode == 1 and "syntax/python" in proc.stdout + proc.stderr
    (quiet_repo / "app.py").write_text("def add(a, b):\n    return a + b + 1\n")
    assert commit(quiet_repo, "fixed", "-a").returncode == 0


def test_pre_commit_pre_push_stage_reviews_the_pushed_range(pc_repo: Path) -> None:
    base = git(pc_repo, "rev-parse", "HEAD").strip()
    (pc_repo / "bad.py").write_text("x = 1\ndef f(:\n")
    git(pc_repo, "add", "bad.py")
    git(pc_repo, "commit", "-qm", "bad", "--no-verify")
    proc = subprocess.run(["pre-commit", "run", "atlas-review", "--hook-stage", "pre-push",
                           "--from-ref", base, "--to-ref", "HEAD"], cwd=pc_repo, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and "bad.py" in proc.stdout and "syntax/python" in proc.stdout
