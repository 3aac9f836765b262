from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_git.core import memory
from atlas_git.core.ledger import record_decision, record_outcome
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import cli, git

PRICES = ('[provider]\nmax_retries = 0\n[models."a/m"]\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n'
          '[models."b/m"]\ninput_per_mtok = 5.0\noutput_per_mtok = 5.0\n')


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "config.toml").write_text(PRICES)
    return repo


def _calls(fake: FakeLLM, capsys: pytest.CaptureFixture[str]) -> list[str]:
    ids = []
    for model, delay in (("a/m", 0.0), ("a/m", 0.05), ("b/m", 0.0)):
        fake.push(Reply("OK", cost=0.001, delay=delay))
        rc, out, _ = cli(capsys, "models", "test", model, "--json")
        assert rc == 0
        ids.append(json.loads(out)["request_id"])
    fake.push(Fault.server_error(500))
    assert cli(capsys, "models", "test", "b/m")[0] == 1
    return ids


def test_stats_latency_methods_and_outcomes(in_repo: Path, fake_llm: FakeLLM,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ids = _calls(fake_llm, capsys)
    record_outcome(in_repo, ids[0], "apply", True)
    record_outcome(in_repo, ids[0], "test", False)
    record_outcome(in_repo, ids[2], "apply", True, tier="gold")
    for method in ("semantic", "semantic", "pattern", "ai"):
        record_decision(in_repo, "r", intent="edit", tier="gold", model="a/m", method=method)
    rc, out, _ = cli(capsys, "stats", "--json")
    data = json.loads(out)
    assert rc == 0
    lat = {r["model"]: r for r in data["latency"]}
    assert lat["a/m"]["calls"] == 2 and lat["a/m"]["p95"] >= 0.05 > lat["a/m"]["p50"] - 0.05
    assert lat["b/m"]["errors"] == 1
    assert data["methods"] == {"semantic": 2, "pattern": 1, "ai": 1} and data["method_source"] == "decisions"
    by_model = {(r["model"], r["kind"]): r for r in data["outcomes_by_model"]}
    assert by_model[("a/m", "apply")]["success_rate"] == 1.0 and by_model[("a/m", "test")]["ok"] == 0
    assert any(r["tier"] == "gold" for r in data["outcomes_by_tier"])
    rc, out, _ = cli(capsys, "stats")
    assert rc == 0 and "Latency per model" in out and "Routing method mix" in out and "semantic" in out


def test_stats_without_history(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "stats")
    assert rc == 0 and "No provider calls recorded" in out
    assert not (in_repo / ".atlas" / "usage.db").exists()  # reading never creates state


def test_export_import_round_trip(in_repo: Path, fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _calls(fake_llm, capsys)
    record_outcome(in_repo, ids[0], "apply", True)
    dump = tmp_path / "atlas-export.jsonl"
    assert cli(capsys, "export", str(dump))[0] == 0
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert lines[0]["format"] == "atlas-git-export"
    assert sum(1 for x in lines if x.get("table") == "calls") == 4

    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.chdir(other)
    rc, out, _ = cli(capsys, "import", str(dump))
    assert rc == 0 and "4 calls" in out and "1 outcomes" in out and "1 config" in out
    assert "3 memory" in out or "4 memory" in out
    again = cli(capsys, "import", str(dump))[1]
    assert "nothing new" in again  # duplicates skipped
    data = json.loads(cli(capsys, "budget", "--json")[1])
    assert data["windows"]["daily"]["spent"] == pytest.approx(0.003)


def test_import_of_a_bad_file_changes_nothing(in_repo: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "atlas-git-export", "version": 1}\n'
                   '{"table": "calls", "row": {"ts": 1, "request_id": "x", "model_requested": "m",'
                   ' "success": 1, "cost_source": "provider", "cost": 1}}\n'
                   "{broken\n")
    rc, _, err = cli(capsys, "import", str(bad))
    assert rc == 2 and ":3: not valid JSON" in err
    (tmp_path / "notours.json").write_text("{}\n")
    assert cli(capsys, "import", str(tmp_path / "notours.json"))[0] == 2
    assert cli(capsys, "import", str(tmp_path / "missing.jsonl"))[0] == 2
    data = json.loads(cli(capsys, "budget", "--json")[1])
    assert data["windows"]["monthly"]["spent"] == 0.0


def test_memory_is_bounded_show_and_clear(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(60):
        memory.append(in_repo, {"type": "decision", "request_id": f"r{i}", "intent": "edit",
                                "request": f"fix thing {i} with key sk-live-abcdefghijklmnop"},
                      max_entries=10)
    entries = memory.recent(in_repo, 100)
    assert 10 <= len(entries) < 20 and entries[-1]["request_id"] == "r59"
    assert "sk-live-abcdefghijklmnop" not in (in_repo / ".atlas" / "memory.jsonl").read_text()
    rc, out, _ = cli(capsys, "memory", "show", "-n", "3")
    assert rc == 0 and out.count("\n") == 3 and "r59" in out
    rc, out, _ = cli(capsys, "memory", "clear")
    assert rc == 0 and "entries removed" in out
    assert cli(capsys, "memory", "show")[1].strip() == "memory is empty"


def test_memory_survives_a_torn_line(in_repo: Path) -> None:
    path = in_repo / ".atlas" / "memory.jsonl"
    path.write_text('{"type": "call", "request_id": "a"}\n{"type": "ca')
    memory.append(in_repo, {"type": "call", "request_id": "b"})
    assert [e["request_id"] for e in memory.recent(in_repo)] == ["a", "b"]
