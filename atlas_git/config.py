"""Layered configuration.

Order (later wins): shipped defaults (``config/*.toml`` in the wheel) < user
config (``$ATLAS_HOME/config.toml`` or the platform config dir) < repo
``.atlas/config.toml`` < environment (``ATLAS_*``) < command-line flags.

API keys are never part of this tree: :mod:`atlas_git.provider_settings`
resolves them from the environment or the user key file only.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_git.errors import UsageError

_DEFAULT_FILES = ("settings.toml", "models.toml", "routes.toml", "prompts.toml")
# Sections whose keys are fixed by the defaults: an unknown key there is a typo.
_STRICT_SECTIONS = ("settings", "provider", "router", "review", "secrets", "executor")

# Environment variables that map onto config keys (keys themselves are separate).
_ENV_KEYS: dict[str, tuple[str, str]] = {
    "ATLAS_BASE_URL": ("provider", "base_url"),
    "ATLAS_CLASSIFIER_MODEL": ("router", "classifier_model"),
    "ATLAS_TIMEZONE": ("settings", "timezone"),
}


def defaults_dir() -> Path:
    """Where the shipped ``config/`` lives: inside the wheel, or the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "config", here.parent / "config"):
        if (candidate / "settings.toml").is_file():
            return candidate
    raise UsageError(f"shipped config not found next to {here}", hint="reinstall atlas-git")


@dataclass
class Source:
    """One layer of configuration and where it came from."""

    name: str
    path: str
    loaded: bool
    keys: int = 0


@dataclass
class Config:
    """The merged configuration tree plus the list of layers that built it."""

    data: dict[str, Any]
    sources: list[Source] = field(default_factory=list)
    repo: Path | None = None

    def get(self, dotted: str, default: Any = None) -> Any:
        """``config.get("router.ai_confidence_threshold")``."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return value if isinstance(value, dict) else {}

    def tiers(self) -> list[str]:
        return list(self.section("tiers"))

    def model_info(self, model: str) -> dict[str, Any]:
        return dict(self.section("models").get(model, {}))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not valid UTF-8") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from exc


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def _type_ok(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, type(default))


def _validate(layer: Mapping[str, Any], defaults: Mapping[str, Any], origin: str) -> None:
    """Check a user/repo layer against the defaults; errors name file and key."""
    for section in _STRICT_SECTIONS:
        values = layer.get(section)
        if values is None:
            continue
        if not isinstance(values, Mapping):
            raise UsageError(f"{origin}: [{section}] must be a table")
        known = defaults.get(section, {})
        for key, value in values.items():
            if key not in known:
                raise UsageError(
                    f"{origin}: unknown key {section}.{key}",
                    hint=f"known keys: {', '.join(sorted(known))}",
                )
            if not _type_ok(known[key], value):
                expected = type(known[key]).__name__
                raise UsageError(
                    f"{origin}: {section}.{key} must be {expected}, got {value!r}"
                )
    for model, info in layer.get("models", {}).items():
        if not isinstance(info, Mapping):
            raise UsageError(f"{origin}: models.{model} must be a table")
        for key in ("input_per_mtok", "output_per_mtok"):
            price = info.get(key)
            if price is not None and (
                not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0
            ):
                raise UsageError(f"{origin}: models.{model}.{key} must be a number >= 0")
    for tier, info in layer.get("tiers", {}).items():
        if not isinstance(info, Mapping) or not isinstance(info.get("models", []), list):
            raise UsageError(f"{origin}: tiers.{tier}.models must be a list of model ids")


def user_config_path() -> Path:
    from atlas_git.paths import user_dir

    return user_dir() / "config.toml"


def load_config(
    repo: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the layered configuration for ``repo`` (main worktree or None)."""
    env = os.environ if env is None else env
    ddir = defaults_dir()
    data: dict[str, Any] = {}
    sources: list[Source] = []
    for name in _DEFAULT_FILES:
        layer = _read_toml(ddir / name)
        _merge(data, layer)
    sources.append(Source("defaults", str(ddir), True, len(data)))
    defaults = copy.deepcopy(data)

    layers: list[tuple[str, Path]] = [("user", user_config_path())]
    if repo is not None:
        layers.append(("repo", repo / ".atlas" / "config.toml"))
    for name, path in layers:
        if path.is_file():
            layer = _read_toml(path)
            _validate(layer, defaults, str(path))
            _merge(data, layer)
            sources.append(Source(name, str(path), True, len(layer)))
        else:
            sources.append(Source(name, str(path), False))

    env_layer: dict[str, Any] = {}
    for var, (section, key) in _ENV_KEYS.items():
        if env.get(var):
            env_layer.setdefault(section, {})[key] = env[var]
    if env.get("OPENAI_BASE_URL") and not env.get("ATLAS_BASE_URL"):
        env_layer.setdefault("provider", {})["base_url"] = env["OPENAI_BASE_URL"]
    if env.get("ATLAS_LLM", "").lower() in ("0", "false", "no", "off"):
        env_layer.setdefault("settings", {})["llm"] = False
    if env_layer:
        _merge(data, env_layer)
    sources.append(Source("environment", ", ".join(sorted(env_layer)) or "-", bool(env_layer)))

    if overrides:
        _merge(data, overrides)
        sources.append(Source("flags", "-", True, len(overrides)))
    return Config(data=data, sources=sources, repo=repo)
