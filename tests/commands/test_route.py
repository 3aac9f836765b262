"""``git atlas route`` and ``git atlas doctor`` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atlas_git.cli import main
from atlas_git.testing.fake_llm import FakeLLM, Reply
from tests.conftest import TEST_API_KEY, git, run_cli

KEYS = ["intent", "tier", "model", "confidence", "method", "estimated_cost", "reasoning",
        "alternatives"]


def test_json_prints_exactly_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["route", "--offline", "--json", "fix the crash in parse() on empty input"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert list(obj) == KEYS
    assert obj["intent"] == "debug" and obj["method"] in ("semantic", "pattern")
    assert isinstance(obj["alternatives"], list) and obj["model"] not in obj["alternatives"]


def test_words_are_joined_and_explain_shows_votes(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["route", "--offline", "--explain", "run", "black", "on", "src/"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "intent      format" in out
    assert "votes:" in out and "semantic" in out and "pattern" in out
    assert "skipped: --offline" in out and "winner:" in out


def test_forced_flags(capsys: pytest.CaptureFixture[str]) -> None:
    main(["route", "--offline", "--json", "--tier", "diamond", "fix a typo"])
    obj = json.loads(capsys.readouterr().out)
    assert (obj["method"], obj["tier"]) == ("forced", "diamond")
    main(["route", "--offline", "--json", "--model", "openai/gpt-4.1", "fix a typo"])
    obj = json.loads(capsys.readouterr().out)
    assert (obj["method"], obj["model"], obj["tier"]) == ("forced", "openai/gpt-4.1", "platinum")
    assert main(["route", "--offline", "--tier", "bronze", "x"]) == 2


def test_batch_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "requests.txt"
    batch.write_bytes(b"format the date as ISO 8601\n\nwhy does this\x00 crash\r\n"
                      b"review \xff\xfe my diff\noptimize imports\n")
    rc = main(["route", "--offline", "--batch", str(batch)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    objs = [json.loads(line) for line in lines]
    assert len(objs) == 4, "blank lines are skipped, every other line gives one object"
    for obj in objs:
        assert list(obj) == ["request", *KEYS]
    assert [o["intent"] for o in objs] == ["edit", "debug", "review", "format"]
    assert objs[0]["request"] == "format the date as ISO 8601"


def test_batch_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--offline", "--batch", str(tmp_path / "nope.txt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["route", "--offline", "--batch", str(tmp_path), ]) == 2
    assert main(["route", "--offline", "--batch", str(tmp_path), "also text"]) == 2


def test_files_option_moves_tier(repo: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    for i in range(4):
        (repo / f"m{i}.py").write_text("x = 1\n")
    args = ["route", "--offline", "--json", "rename the helper load to read"]
    main(args)
    alone = json.loads(capsys.readouterr().out)
    main([*args, *[a for i in range(4) for a in ("--files", f"m{i}.py")]])
    many = json.loads(capsys.readouterr().out)
    assert alone["tier"] in ("silver", "gold") and many["tier"] == "platinum"


def test_staged_diff_is_read_for_review(repo: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "big.py").write_text("".join(f"value_{i} = {i}\n" for i in range(2000)))
    git(repo, "add", "big.py")
    status_before = git(repo, "status", "--porcelain")
    main(["route", "--offline", "--json", "review my staged changes"])
    obj = json.loads(capsys.readouterr().out)
    assert obj["tier"] in ("platinum", "diamond") and "staged diff of 2000 lines" in obj["reasoning"]
    assert git(repo, "status", "--porcelain") == status_before


def test_offline_cli_makes_no_request(fake_llm: FakeLLM, capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.push(Reply('{"intent": "review", "tier": "diamond", "confidence": 1, "reasoning": "x"}'))
    assert main(["route", "--offline", "--json", "fix the crash"]) == 0
    assert fake_llm.requests == []
    assert main(["route", "--json", "fix the crash"]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert obj["method"] == "ai" and len(fake_llm.chat_requests()) == 1


@pytest.mark.parametrize(("args", "stdin", "expect_rc", "expect"), [
    (["route", "--offline", "--json", ""], None, 2, "empty"),
    (["route", "--offline", "--json", "   \t "], None, 2, "empty"),
    (["route", "--offline", "--json"], None, 2, "missing the request"),
    (["route", "--offline", "--json", "-"], b"fix the crash " + b"y" * 1_100_000, 0, '"intent"'),
    (["route", "--offline", "--batch", "-"], b"\xff\xfe\x00 fix it\nexplain this\n", 0, '"request"'),
], ids=["empty", "whitespace", "missing", "one-megabyte-stdin", "bad-bytes-batch"])
def test_bad_input_via_real_cli(args: list[str], stdin: bytes | None, expect_rc: int,
                                expect: str) -> None:
    proc = run_cli(*args, input=stdin)
    assert proc.returncode == expect_rc, proc.stderr
    assert "Traceback" not in proc.stderr
    assert expect in (proc.stdout + proc.stderr)
    if expect_rc:
        assert len(proc.stderr.strip().splitlines()) == 1


def test_invalid_utf8_argv_via_real_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "atlas_git", "route", "--offline", "--json",
                           b"fix the \xff crash in parse"], capture_output=True,
                          env=os.environ.copy(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert obj["intent"] == "debug" and "not UTF-8" in obj["reasoning"]


def test_doctor_json_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json", "--offline"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["embeddings"]["available"] is True
    assert report["provider"]["reachable"] is None
    assert [s["name"] for s in report["config"]["sources"]][:2] == ["defaults", "user"]
    assert report["git"]["ok"]


def test_doctor_checks_provider_and_never_prints_the_key(fake_llm: FakeLLM,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.models = [{"id": "a/b"}]
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "reachable" in out and "ATLAS_API_KEY" in out
    assert TEST_API_KEY not in out
    assert any(r.path.endswith("/models") for r in fake_llm.requests)


def test_doctor_reports_unreachable_provider(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_API_KEY", TEST_API_KEY)
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["provider"]["reachable"] is False
    assert any("not reachable" in p["what"] for p in report["problems"])
    assert TEST_API_KEY not in json.dumps(report)
