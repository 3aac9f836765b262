"""The provider key never reaches ``.atlas/`` (ledger, WAL, memory, caches, exports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.cli import main
from atlas_git.core.ledger import record_decision, record_outcome
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import TEST_API_KEY


def _files_with_key(root: Path) -> list[Path]:
    needle = TEST_API_KEY.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_api_key_is_in_no_file_under_atlas(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(repo)
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "config.toml").write_text(
        '[provider]\nmax_retries = 1\nbackoff_base = 0.01\nbackoff_max = 0.02\nread_timeout = 0.5\n'
        '[models."k/m"]\ninput_per_mtok = 1.0\noutput_per_mtok = 1.0\n')
    echo = json.dumps({"error": {"message": f"bad key {TEST_API_KEY}"}}).encode()
    fake_llm.models = [{"id": "k/m", "pricing": {"prompt": "0.000001", "completion": "0.000001"},
                        "name": TEST_API_KEY}]
    fake_llm.key_info["label"] = "sk-test-ATLAS…"
    fake_llm.push(
        Reply("OK", cost=0.001),
        Reply(status=401, raw_body=echo),  # a server that echoes the key in its error
        Reply(status=500, raw_body=echo), Reply("OK", cost=None),  # retry, cost computed
        Fault.timeout(1.5), Fault.timeout(1.5),
        Reply(f"reply mentioning {TEST_API_KEY}", cost=0.001),
    )
    for args in (["models", "test", "k/m"], ["models", "test", "k/m"], ["models", "test", "k/m"],
                 ["models", "test", "k/m"], ["models", "test", "k/m"], ["models", "refresh"],
                 ["budget", "set", "daily", "3"], ["budget", "--json", "--upstream"],
                 ["budget", "analytics", "--format", "json"], ["stats", "--json"],
                 ["export", str(repo / ".atlas" / "export.jsonl")], ["memory", "show"]):
        main(args)
    record_outcome(repo, "x", "apply", True, model="k/m")
    record_decision(repo, "x", intent="edit", tier="gold", model="k/m", method="ai",
                    request=f"please use {TEST_API_KEY}")
    _, err = capsys.readouterr()
    assert TEST_API_KEY not in err  # error lines are redacted
    assert len(fake_llm.chat_requests()) >= 7  # the calls really happened
    assert (repo / ".atlas" / "usage.db").exists() and (repo / ".atlas" / "memory.jsonl").exists()
    assert _files_with_key(repo / ".atlas") == []


def test_no_atlas_dir_from_earlier_tests_holds_the_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every ``.atlas`` left by tests that ran before this one in the session."""
    base = tmp_path_factory.getbasetemp()
    offenders = [p for atlas in base.rglob(".atlas") if atlas.is_dir() for p in _files_with_key(atlas)]
    assert offenders == []
