from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_git.testing.fake_llm import FakeLLM, Reply
from tests.conftest import cli, run_cli

PRICES = '[models."paid/m"]\ninput_per_mtok = 100.0\noutput_per_mtok = 100.0\n'


def test_status_json_has_the_design_shape(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "budget", "set", "daily", "5")[0] == 0
    assert cli(capsys, "budget", "set", "monthly", "$50.50")[0] == 0
    rc, out, _ = cli(capsys, "budget", "--json")
    data = json.loads(out)
    assert rc == 0
    assert data["windows"]["daily"] == {"limit": 5.0, "spent": 0.0, "remaining": 5.0}
    assert data["windows"]["weekly"] == {"limit": None, "spent": 0.0, "remaining": None}
    assert data["windows"]["monthly"]["limit"] == 50.5
    assert data["warning_level"] == "safe" and isinstance(data["recommendations"], list)
    assert "daily = 5.0" in (in_repo / ".atlas" / "budget.toml").read_text()
    assert not (in_repo / ".atlas" / "config.toml").exists()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=in_repo, capture_output=True,
                          text=True).stdout == ""  # local limits are state, not a tree change
    assert cli(capsys, "budget", "unset", "daily")[0] == 0
    assert json.loads(cli(capsys, "budget", "--json")[1])["windows"]["daily"]["limit"] is None


def test_team_and_local_limits_the_stricter_wins(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "budget", "set", "--team", "daily", "2")[0] == 0
    assert "daily = 2.0" in (in_repo / ".atlas" / "config.toml").read_text()
    assert cli(capsys, "budget", "set", "daily", "10")[0] == 0
    rc, _, err = cli(capsys, "budget", "--json")
    assert json.loads(cli(capsys, "budget", "--json")[1])["windows"]["daily"]["limit"] == 2.0
    cli(capsys, "budget", "set", "daily", "1")
    assert json.loads(cli(capsys, "budget", "--json")[1])["windows"]["daily"]["limit"] == 1.0
    rc, _, err = cli(capsys, "budget", "unset", "daily")
    assert rc == 0 and "still limited by the team config" in err


@pytest.mark.parametrize("args", [
    ("budget", "set", "daily", "abc"),
    ("budget", "set", "daily", "-1"),
    ("budget", "set", "daily", "nan"),
    ("budget", "set", "daily", "inf"),
    ("budget", "set", "hourly", "5"),
    ("budget", "analytics", "--days", "0"),
])
def test_bad_input_is_a_usage_error_and_changes_nothing(in_repo: Path, capsys: pytest.CaptureFixture[str],
                                                        args: tuple[str, ...]) -> None:
    rc, _, err = cli(capsys, *args)
    assert rc == 2
    assert err.startswith("atlas: error:") and err.count("\n") == 1
    assert not (in_repo / ".atlas" / "budget.toml").exists()


def test_invalid_limit_in_config_is_a_clear_error(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_repo / ".atlas").mkdir()
    (in_repo / ".atlas" / "config.toml").write_text('[budget]\ndaily = "lots"\n')
    rc, _, err = cli(capsys, "budget")
    assert rc == 2 and "budget.daily must be a number" in err


def test_warning_levels_follow_spend(in_repo: Path, fake_llm: FakeLLM,
        capsys: pytest.CaptureFixture[str]) -> None:
    (in_repo / ".atlas").mkdir()
    (in_repo / ".atlas" / "config.toml").write_text(f"[budget]\ndaily = 0.1\n{PRICES}")
    levels = []
    for _ in range(3):
        fake_llm.push(Reply("OK", cost=0.03))
        assert cli(capsys, "models", "test", "paid/m", "--max-tokens", "5")[0] == 0
        levels.append(json.loads(cli(capsys, "budget", "--json")[1])["warning_level"])
    assert levels == ["safe", "safe", "critical"]  # 30%, 60%, 90%
    data = json.loads(cli(capsys, "budget", "--json")[1])
    assert data["windows"]["daily"]["spent"] == pytest.approx(0.09)
    assert any("downgraded" in r for r in data["recommendations"])
    rc, out, _ = cli(capsys, "budget")
    assert rc == 0 and "critical" in out and "$0.0900" in out


def test_upstream_key_info_is_shown(in_repo: Path, fake_llm: FakeLLM,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.key_info.update({"limit": 20.0, "limit_remaining": 12.5, "usage_daily": 1.25})
    rc, out, _ = cli(capsys, "budget", "--json", "--upstream")
    up = json.loads(out)["upstream"]
    assert rc == 0 and up["limit"] == 20.0 and up["limit_remaining"] == 12.5 and up["usage_daily"] == 1.25
    assert any(r.path.endswith("/key") for r in fake_llm.requests)
    # Not OpenRouter and not asked for: no request.
    before = len(fake_llm.requests)
    assert "upstream" not in json.loads(cli(capsys, "budget", "--json")[1])
    assert len(fake_llm.requests) == before


def test_analytics_json_and_chart(in_repo: Path, fake_llm: FakeLLM,
        capsys: pytest.CaptureFixture[str]) -> None:
    (in_repo / ".atlas").mkdir()
    (in_repo / ".atlas" / "config.toml").write_text(PRICES + '[models."cheap/m"]\ninput_per_mtok = 1.0\n'
                                                    'output_per_mtok = 1.0\n')
    for model, cost in (("paid/m", 0.06), ("paid/m", 0.06), ("paid/m", 0.06), ("cheap/m", 0.001)):
        fake_llm.push(Reply("OK", cost=cost))
        assert cli(capsys, "models", "test", model)[0] == 0
    from atlas_git.core.ledger import record_outcome

    rid = json.loads(cli(capsys, "memory", "show", "--json")[1].splitlines()[0])["request_id"]
    for ok in (True, False, False):
        record_outcome(in_repo, rid, "test", ok, model="paid/m")
    rc, out, _ = cli(capsys, "budget", "analytics", "--days", "7", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and data["total_calls"] == 4 and data["total_cost"] == pytest.approx(0.181)
    top = data["by_model"][0]
    assert top["model"] == "paid/m" and top["share"] > 0.9
    assert top["success_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert len(data["by_day"]) == 7 and data["by_day"][-1]["calls"] == 4
    assert any("paid/m costs" in r and "33% success" in r for r in data["recommendations"])
    rc, out, _ = cli(capsys, "budget", "analytics", "--days", "3")
    assert rc == 0 and "Daily spend" in out and "Cost per model" in out and "█" in out


def _chattr(path: Path, flag: str) -> bool:
    exe = shutil.which("chattr")
    if exe is None:
        return False
    return subprocess.run([exe, flag, str(path)], capture_output=True).returncode == 0


@pytest.fixture
def readonly_atlas(in_repo: Path) -> Iterator[Path]:
    atlas = in_repo / ".atlas"
    atlas.mkdir()
    (atlas / "config.toml").write_text(f"[budget]\ndaily = 1.0\n{PRICES}")
    # As root, permissions don't stop writes: make the directory immutable instead.
    if not _chattr(atlas, "+i"):
        atlas.chmod(0o555)
    probe = atlas / "probe"
    try:
        probe.write_text("x")
    except OSError:
        pass
    else:
        probe.unlink()
        pytest.skip("cannot make a directory read-only here")
    yield atlas
    _chattr(atlas, "-i")
    atlas.chmod(0o755)


def test_readonly_atlas_refuses_the_call_with_a_recovery(readonly_atlas: Path, fake_llm: FakeLLM) -> None:
    proc = run_cli("models", "test", "paid/m", cwd=readonly_atlas.parent)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "cannot write the usage ledger" in proc.stderr and "ATLAS_DISABLE_STATE" in proc.stderr
    assert fake_llm.chat_requests() == []


def test_corrupt_ledger_repair_recovers(in_repo: Path, fake_llm: FakeLLM,
        capsys: pytest.CaptureFixture[str]) -> None:
    (in_repo / ".atlas").mkdir()
    (in_repo / ".atlas" / "config.toml").write_text(PRICES)
    db = in_repo / ".atlas" / "usage.db"
    db.write_bytes(b"garbage" * 1000)
    for _ in range(2):  # same clear message every time: no crash loop
        rc, _, err = cli(capsys, "budget")
        assert rc == 1 and "damaged" in err and "git atlas budget repair" in err
    rc, out, _ = cli(capsys, "budget", "repair")
    assert rc == 0 and "moved to" in out
    assert list((in_repo / ".atlas").glob("usage.db.damaged-*"))
    fake_llm.push(Reply("OK", cost=0.01))
    assert cli(capsys, "models", "test", "paid/m")[0] == 0
    assert cli(capsys, "budget", "repair")[1].startswith("ledger")  # healthy now


def test_repair_salvages_rows_from_a_damaged_file(in_repo: Path, fake_llm: FakeLLM,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (in_repo / ".atlas").mkdir()
    (in_repo / ".atlas" / "config.toml").write_text(PRICES)
    fake_llm.push(Reply("OK", cost=0.02), Reply("OK", cost=0.03))
    assert cli(capsys, "models", "test", "paid/m", "--count", "2")[0] == 0
    from atlas_git.core.ledger import forget

    db = in_repo / ".atlas" / "usage.db"
    forget(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("DROP TABLE spend_buckets")  # damage: a table the schema needs is gone
    conn.commit()
    conn.close()
    rc, _, err = cli(capsys, "budget", "--json")
    assert rc == 1 and "repair" in err
    rc, out, _ = cli(capsys, "budget", "repair")
    assert rc == 0 and "2 call rows recovered" in out
    data = json.loads(cli(capsys, "budget", "--json")[1])
    assert data["windows"]["daily"]["spent"] == pytest.approx(0.05)


def test_outside_a_repo_set_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli(capsys, "budget", "set", "daily", "5")
    assert rc == 2 and "not inside a git repository" in err
