from __future__ import annotations

import os
from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.errors import UsageError
from atlas_git.provider_settings import resolve


def test_defaults_ship_tiers_models_and_prompts() -> None:
    cfg = load_config(None)
    assert cfg.tiers() == ["silver", "gold", "platinum", "diamond"]
    for tier in cfg.tiers():
        for model in cfg.get(f"tiers.{tier}.models"):
            info = cfg.model_info(model)
            assert info["input_per_mtok"] >= 0 and info["context"] > 0
    assert set(cfg.section("intents")) == {"generate", "edit", "review", "debug", "optimize",
                                           "format", "explain"}
    assert "SEARCH" in cfg.get("prompts.edit")


def test_layers_override_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["ATLAS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[router]\nai_confidence_threshold = 0.5\nclassifier_model = "u/m"\n')
    repo = tmp_path / "r"
    (repo / ".atlas").mkdir(parents=True)
    (repo / ".atlas" / "config.toml").write_text("[router]\nai_confidence_threshold = 0.9\n")
    monkeypatch.setenv("ATLAS_CLASSIFIER_MODEL", "env/m")
    cfg = load_config(repo, overrides={"settings": {"default_tier": "silver"}})
    assert cfg.get("router.ai_confidence_threshold") == 0.9  # repo beats user
    assert cfg.get("router.classifier_model") == "env/m"  # env beats user
    assert cfg.get("settings.default_tier") == "silver"  # flags beat all
    assert [s.name for s in cfg.sources if s.loaded] == ["defaults", "user", "repo", "environment",
                                                         "flags"]


@pytest.mark.parametrize(("text", "needle"), [
    ("[router]\nai_confidence_treshold = 0.5\n", "unknown key router.ai_confidence_treshold"),
    ("[router]\nai_confidence_threshold = \"high\"\n", "router.ai_confidence_threshold must be float"),
    ("[provider\n", "invalid TOML"),
    ('[models."x/y"]\ninput_per_mtok = -1\n', "models.x/y.input_per_mtok"),
])
def test_bad_repo_config_names_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / ".atlas").mkdir()
    path = tmp_path / ".atlas" / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_config(tmp_path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_provider_selection_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_BASE_URL")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-1")
    s = resolve(load_config(None))
    assert s.is_openrouter and s.api_key == "sk-or-1" and s.key_source == "OPENROUTER_API_KEY"
    assert "sk-or-1" not in repr(s)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-oa")
    s = resolve(load_config(None))
    assert s.base_url == "http://127.0.0.1:1/v1" and s.api_key == "sk-oa"
    monkeypatch.setenv("ATLAS_BASE_URL", "http://127.0.0.1:2/v1")
    monkeypatch.setenv("ATLAS_API_KEY", "sk-atlas")
    s = resolve(load_config(None))
    assert (s.base_url, s.api_key, s.key_source) == ("http://127.0.0.1:2/v1", "sk-atlas", "ATLAS_API_KEY")


def test_key_file_must_be_private(monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas_git.errors import AtlasError

    monkeypatch.delenv("ATLAS_BASE_URL")
    home = Path(os.environ["ATLAS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    keys = home / "keys.toml"
    keys.write_text('OPENROUTER_API_KEY = "sk-or-file"\n')
    keys.chmod(0o644)
    with pytest.raises(AtlasError, match="chmod 600"):
        resolve(load_config(None))
    keys.chmod(0o600)
    s = resolve(load_config(None))
    assert s.api_key == "sk-or-file" and s.key_source == "keys.toml"
