"""``git atlas budget``: status, limits, analytics and ledger repair."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from atlas_git import ui
from atlas_git.config import Config, load_config
from atlas_git.errors import EXIT_OK, AtlasError, UsageError
from atlas_git.paths import find_repo


def _repo_config(required: bool = False) -> tuple[Path | None, Config]:
    repo = find_repo()
    if repo is None and required:
        raise UsageError("not inside a git repository", hint="budget limits live in the repo's .atlas/")
    return repo, load_config(repo)


def _guard_sqlite(repo: Path | None, exc: sqlite3.Error) -> AtlasError:
    from atlas_git.core.ledger import ledger_path
    from atlas_git.core.ledger.schema import ledger_error

    return ledger_error(ledger_path(repo, create_dir=False), exc)


def _upstream(config: Config, wanted: bool | None) -> dict[str, Any] | None:
    """OpenRouter's own view of the key (limit, usage): the server-side backstop."""
    from atlas_git.adapters.llm import ProviderClient
    from atlas_git.provider_settings import resolve

    settings = resolve(config)
    if wanted is False or (wanted is None and not settings.is_openrouter):
        return None
    if not settings.api_key:
        return {"error": "no API key: cannot ask the provider for the key's limit"}
    try:
        payload = ProviderClient(settings).get_json("key")
    except AtlasError as exc:
        return {"error": str(exc)}
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return {"error": "the provider's key info has an unexpected shape"}
    keys = ("label", "limit", "limit_remaining", "usage", "usage_daily", "usage_weekly", "usage_monthly",
            "is_free_tier")
    # Only numbers and flags: the label is the key's name, never the key itself.
    return {k: data.get(k) for k in keys if k in data}


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def show(as_json: bool, upstream: bool | None) -> int:
    """Print spent/remaining per window, the warning level and recommendations."""
    from atlas_git.core.budget import budget_status
    from atlas_git.core.pricing import stale_warning

    repo, config = _repo_config()
    try:
        status = budget_status(config, repo)
    except sqlite3.Error as exc:
        raise _guard_sqlite(repo, exc) from exc
    key_info = _upstream(config, upstream)
    if key_info is not None:
        status["upstream"] = key_info
    warning = stale_warning(config)
    if warning:
        status["recommendations"].append(warning)
    if as_json:
        ui.out(json.dumps(status, sort_keys=True))
        return EXIT_OK
    colors = {"safe": "green", "warning": "yellow", "critical": "red", "exceeded": "red"}
    level = status["warning_level"]
    ui.out(f"budget: {ui.style(level, colors.get(level, 'bold'))}  (timezone {status['timezone']})")
    for window, row in status["windows"].items():
        ui.out(f"  {window:<8} spent {_money(row['spent']):>12}  limit {_money(row['limit']):>12}  "
               f"remaining {_money(row['remaining']):>12}")
    if status["request_limit"] is not None:
        ui.out(f"  per request limit {_money(status['request_limit'])}")
    if status["reserved"]:
        ui.out(f"  held by running calls {_money(status['reserved'])}")
    if key_info is not None:
        if "error" in key_info:
            ui.out(f"  provider key: {key_info['error']}")
        else:
            ui.out(f"  provider key: limit {_money(key_info.get('limit'))}, remaining "
                   f"{_money(key_info.get('limit_remaining'))}, "
                   f"used today {_money(key_info.get('usage_daily'))},"
                   f" this month {_money(key_info.get('usage_monthly'))}")
    for rec in status["recommendations"]:
        ui.out(f"  - {rec}")
    return EXIT_OK


def set_limit(window: str, amount_text: str, team: bool = False) -> int:
    """``budget set [--team] daily|weekly|monthly|request AMOUNT``."""
    from atlas_git.core.ledger.limits import limits_from_config, parse_amount, write_limit

    amount = parse_amount(amount_text)  # validate before touching anything
    repo, _ = _repo_config(required=True)
    assert repo is not None
    from atlas_git.paths import atlas_dir

    atlas_dir(repo)
    path = write_limit(repo, window, amount, team=team)
    ui.out(f"{window} limit set to ${amount:,.6g} in {path}")
    effective = getattr(limits_from_config(load_config(repo)), window)
    if effective is not None and effective < amount:
        ui.warn(f"a stricter {window} limit of ${effective:,.6g} is also set and still applies")
    return EXIT_OK


def unset_limit(window: str, team: bool = False) -> int:
    """``budget unset [--team] daily|weekly|monthly|request|all``."""
    from atlas_git.core.ledger.limits import LIMIT_KEYS, limits_from_config, write_limit

    repo, _ = _repo_config(required=True)
    assert repo is not None
    keys = LIMIT_KEYS if window == "all" else (window,)
    for key in keys:
        path = write_limit(repo, key, None, team=team)
    ui.out(f"{window} limit removed from {path}")
    limits = limits_from_config(load_config(repo))
    left = [k for k in keys if getattr(limits, k) is not None]
    if left:
        where = "your user config" if team else "the team config (.atlas/config.toml; use --team)"
        ui.warn(f"{', '.join(left)} still limited by {where}")
    return EXIT_OK


def show_analytics(days: int, fmt: str) -> int:
    """``budget analytics --days N [--format text|json]``."""
    from atlas_git.core.analytics import analytics

    if days < 1 or days > 3660:
        raise UsageError(f"--days must be between 1 and 3660, got {days}")
    repo, config = _repo_config()
    try:
        data = analytics(config, repo, days)
    except sqlite3.Error as exc:
        raise _guard_sqlite(repo, exc) from exc
    if fmt == "json":
        ui.out(json.dumps(data, sort_keys=True))
        return EXIT_OK
    from atlas_git.commands.charts import render_analytics

    render_analytics(data)
    return EXIT_OK


def repair() -> int:
    """Check the ledger; move a damaged one aside and rebuild what can be read."""
    from atlas_git.core.ledger import forget, ledger_path
    from atlas_git.core.ledger.repair import check, rebuild

    repo, _ = _repo_config()
    path = ledger_path(repo, create_dir=False)
    if not path.exists():
        ui.out(f"no ledger at {path}: nothing to repair")
        return EXIT_OK
    forget(path)
    problem = check(path)
    if problem is None:
        ui.out(f"ledger {path} is healthy (stale holds cleared, totals rebuilt)")
        return EXIT_OK
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    salvaged = rebuild(path, aside)
    ui.out(f"ledger was damaged ({problem}); moved to {aside}, new ledger created, "
           f"{salvaged} call rows recovered")
    return EXIT_OK
