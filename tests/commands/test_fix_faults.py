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
