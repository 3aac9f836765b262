"""``git atlas stats``: latency, routing method mix, apply/test success."""

from __future__ import annotations

import json
import sqlite3

from atlas_git import ui
from atlas_git.config import load_config
from atlas_git.errors import EXIT_OK, UsageError
from atlas_git.paths import find_repo


def stats(days: int, as_json: bool) -> int:
    """Print telemetry from the ledger for the last ``days`` days."""
    from atlas_git.core.analytics import stats as collect

    if days < 1 or days > 3660:
        raise UsageError(f"--days must be between 1 and 3660, got {days}")
    repo = find_repo()
    config = load_config(repo)
    try:
        data = collect(config, repo, days)
    except sqlite3.Error as exc:
        from atlas_git.core.ledger import ledger_path
        from atlas_git.core.ledger.schema import ledger_error

        raise ledger_error(ledger_path(repo, create_dir=False), exc) from exc
    if as_json:
        ui.out(json.dumps(data, sort_keys=True))
        return EXIT_OK
    from atlas_git.commands.charts import render_stats

    render_stats(data)
    return EXIT_OK
