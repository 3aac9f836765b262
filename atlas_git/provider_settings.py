"""Which provider to talk to, and with which key.

Keys come from (first found): ``ATLAS_API_KEY``; the variable matching the
chosen base URL (``OPENAI_API_KEY`` with ``OPENAI_BASE_URL``, else the
configured ``provider.api_key_env``, ``OPENROUTER_API_KEY`` by default); the
user key file ``$ATLAS_HOME/keys.toml`` (mode 0600). Never from the repo.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from atlas_git.config import Config
from atlas_git.errors import AtlasError

OPENROUTER_HOST = "openrouter.ai"


@dataclass(frozen=True)
class ProviderSettings:
    base_url: str
    api_key: str | None
    key_source: str  # where the key came from, for `doctor` (never the key itself)
    connect_timeout: float
    read_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    max_retry_after: float

    @property
    def is_openrouter(self) -> bool:
        return OPENROUTER_HOST in self.base_url

    def __repr__(self) -> str:  # keep the key out of any accidental log line
        return f"ProviderSettings(base_url={self.base_url!r}, key_source={self.key_source!r})"


def _key_file_key(env_name: str) -> str | None:
    from atlas_git.paths import user_dir

    path = user_dir() / "keys.toml"
    if not path.is_file():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AtlasError(
            f"{path} is readable by others (mode {mode:o})", hint=f"run: chmod 600 {path}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AtlasError(f"{path}: invalid TOML") from exc
    value = data.get(env_name) or data.get("default")
    return str(value) if value else None


def resolve(config: Config, env: Mapping[str, str] | None = None) -> ProviderSettings:
    """Resolve base URL and key for ``config`` from the environment and key file."""
    env = os.environ if env is None else env
    prov = config.section("provider")
    base_url = str(prov.get("base_url", "")).rstrip("/")
    key: str | None = None
    source = "none"
    if env.get("ATLAS_API_KEY"):
        key, source = env["ATLAS_API_KEY"], "ATLAS_API_KEY"
    elif env.get("OPENAI_BASE_URL") and not env.get("ATLAS_BASE_URL"):
        if env.get("OPENAI_API_KEY"):
            key, source = env["OPENAI_API_KEY"], "OPENAI_API_KEY"
    else:
        name = str(prov.get("api_key_env", "OPENROUTER_API_KEY"))
        if env.get(name):
            key, source = env[name], name
    if key is None:
        name = str(prov.get("api_key_env", "OPENROUTER_API_KEY"))
        file_key = _key_file_key(name)
        if file_key:
            key, source = file_key, "keys.toml"
    return ProviderSettings(
        base_url=base_url,
        api_key=key,
        key_source=source,
        connect_timeout=float(prov.get("connect_timeout", 3.0)),
        read_timeout=float(prov.get("read_timeout", 120.0)),
        max_retries=int(prov.get("max_retries", 3)),
        backoff_base=float(prov.get("backoff_base", 0.5)),
        backoff_max=float(prov.get("backoff_max", 8.0)),
        max_retry_after=float(prov.get("max_retry_after", 30.0)),
    )
