"""Spending limits: where they live and how they are read and written.

Two places, and every limit found applies (the stricter one wins):

* team limits: the ``[budget]`` table of the layered config, i.e. the
  committable ``.atlas/config.toml`` (or the user config). ``git atlas budget
  set --team`` writes there;
* local limits: ``.atlas/budget.toml``, local state excluded from git, so
  ``git atlas budget set`` never shows up in ``git status``.

Keys: ``daily``, ``weekly``, ``monthly`` (USD per window) and ``request``
(USD per request, all attempts and fallbacks included). Files are rewritten
atomically; other tables are preserved, comments are not.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_git.config import Config
from atlas_git.errors import AtlasError, UsageError

LIMIT_KEYS = ("daily", "weekly", "monthly", "request")
LOCAL_NAME = "budget.toml"


@dataclass(frozen=True)
class Limits:
    """USD limits; None = no limit for that window."""

    daily: float | None = None
    weekly: float | None = None
    monthly: float | None = None
    request: float | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.daily, self.weekly, self.monthly, self.request))

    def windows(self) -> dict[str, float]:
        """The daily/weekly/monthly limits that are set."""
        out = {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}
        return {k: v for k, v in out.items() if v is not None}


def parse_amount(text: str) -> float:
    """``"5"``, ``"$2.50"`` → float; anything else is a usage error."""
    cleaned = text.strip().lstrip("$").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise UsageError(f"invalid amount {text!r}", hint="give a number of US dollars, e.g. 5 or 2.50") \
            from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"invalid amount {text!r}", hint="the amount must be a finite number >= 0")
    if value > 1_000_000:
        raise UsageError(f"amount {text!r} is too large", hint="limits are USD; at most 1000000")
    return value


def _read_limits(section: dict[str, Any], origin: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for key in LIMIT_KEYS:
        raw = section.get(key)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
            raise UsageError(f"{origin}: budget.{key} must be a number >= 0, got {raw!r}",
                             hint="fix it with `git atlas budget set` or edit the file")
        values[key] = float(raw)
    return values


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from exc


def local_limits_path(repo: Path) -> Path:
    return repo / ".atlas" / LOCAL_NAME


def limits_from_config(config: Config) -> Limits:
    """Team limits (merged config) and local ones (``.atlas/budget.toml``): the stricter wins."""
    values = _read_limits(config.section("budget"), "config")
    if config.repo is not None:
        path = local_limits_path(config.repo)
        local = _load_toml(path).get("budget", {})
        if isinstance(local, dict):
            for key, value in _read_limits(local, str(path)).items():
                values[key] = min(value, values.get(key, value))
    return Limits(**values)


def budget_setting(config: Config, key: str, default: float) -> float:
    """A numeric non-limit ``[budget]`` setting (thresholds, timeouts)."""
    raw = config.get(f"budget.{key}", default)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise UsageError(f"budget.{key} must be a number, got {raw!r}")
    return float(raw)


def repo_config_path(repo: Path) -> Path:
    return repo / ".atlas" / "config.toml"


def write_limit(repo: Path, key: str, amount: float | None, *, team: bool = False) -> Path:
    """Set (or with None remove) ``budget.KEY`` locally, or with ``team`` in ``.atlas/config.toml``."""
    import tomli_w

    if key not in LIMIT_KEYS:
        raise UsageError(f"unknown budget window {key!r}", hint=f"one of: {', '.join(LIMIT_KEYS)}")
    path = repo_config_path(repo) if team else local_limits_path(repo)
    data = _load_toml(path)
    budget = data.get("budget")
    if budget is None:
        budget = data["budget"] = {}
    if not isinstance(budget, dict):
        raise UsageError(f"{path}: [budget] must be a table")
    if amount is None:
        budget.pop(key, None)
    else:
        budget[key] = amount
    if not budget:
        data.pop("budget")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AtlasError(f"cannot write {path}: {exc.strerror}") from exc
    return path
