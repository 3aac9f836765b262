"""A small run of the fault-injection benchmark: SIGKILLed runs never touch the user's state."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "fault_injection.py"


def test_killed_runs_leave_user_state_untouched_and_are_cleaned_up(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("fault_injection", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fault_injection"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    result = module.run_trials(5, seed=7, workdir=tmp_path)
    assert result.trials == 5
    assert result.violations == []
    assert sum(result.cleaned.values()) >= 5


def test_sigterm_cleans_up_on_the_way_out(repo: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from tests.executor_support import atlas_branches, search_replace, snapshot, worktrees

    patch = repo.parent / "p.txt"
    patch.write_text(search_replace("app.py", "    return a + b\n", "    return b + a\n"))
    before = snapshot(repo)
    proc = subprocess.Popen([sys.executable, "-m", "atlas_git", "apply", "--test", "sleep 30", str(patch)],
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    wtdir = repo / ".atlas" / "worktrees"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (wtdir.is_dir() and any(wtdir.iterdir())):
        time.sleep(0.05)
    time.sleep(0.3)  # into the sandboxed `sleep 30`
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert worktrees(repo) == [str(repo)] and not any(wtdir.iterdir())
    assert [p.name for p in (repo / ".atlas" / "locks").iterdir()] in ([], ["worktrees.mutex"])
    assert atlas_branches(repo) == [] and snapshot(repo) == before
