"""LLM review against the FakeLLM server: validation, redaction, caching, fail-open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlas_git.config import load_config
from atlas_git.core.review import diff, engine, llm
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import git
from tests.core.review.helpers import stage

GH = "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8"
CHANGE = {"calc.py": "def ratio(a, b):\n    total = a / b\n    return total\n"}


def finding(line: int, path: str = "calc.py", **extra: Any) -> dict[str, Any]:
    return {"path": path, "line": line, "end_line": None, "severity": "warning", "rule": "div-zero",
            "message": "b may be zero", "suggestion": None, **extra}


def reply(*items: dict[str, Any]) -> Reply:
    return Reply(json.dumps({"findings": list(items)}), cost=0.002)


def run(repo: Path, env: dict[str, str] | None = None) -> Any:
    request = engine.ReviewRequest(diff.select(staged=True, env={}), (), False, repo)
    return engine.run_review(request, load_config(repo), repo, env=env or {})


@pytest.fixture
def quick(repo: Path) -> Path:
    """No retries: a down provider fails in milliseconds."""
    (repo / ".atlas").mkdir(exist_ok=True)
    (repo / ".atlas" / "config.toml").write_text("[provider]\nmax_retries = 0\nconnect_timeout = 1.0\n")
    return repo


def test_findings_on_added_lines_are_kept_others_dropped(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, CHANGE)
    fake_llm.push(reply(finding(2), finding(99), finding(2, path="elsewhere.py"),
                        {"path": "calc.py", "message": "no line"}))
    result = run(quick)
    assert result.ran_llm and not result.llm_failed
    assert [(f.path, f.line, f.source, f.rule) for f in result.findings] == [
        ("calc.py", 2, "llm", "llm/div-zero")]
    assert any("outside the diff" in n for n in result.notes)
    assert any("malformed" in n for n in result.notes)
    sent = fake_llm.chat_requests()[0]
    assert sent["response_format"]["json_schema"]["name"] == "review"
    user = sent["messages"][1]["content"]
    assert "     2+     total = a / b" in user  # new-side numbers, + on added lines


def test_malformed_reply_is_dropped_with_a_note(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, CHANGE)
    fake_llm.push(Reply("I think the code looks fine! {not json"))
    result = run(quick)
    assert result.findings == []
    assert any("not valid JSON" in n for n in result.notes)


def test_secrets_never_reach_the_provider(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, {"calc.py": f"TOKEN = '{GH}'\n\ndef f(a, b):\n    return a / b\n",
                  ".env": f"GITHUB_TOKEN={GH}\n"})
    fake_llm.push(reply())
    result = run(quick)
    assert result.ran_llm
    assert GH not in fake_llm.all_text_sent()
    assert "[REDACTED:github_token]" in fake_llm.all_text_sent()
    assert ".env" not in json.dumps(fake_llm.chat_requests())
    # The built-in check still reports the secret (locally).
    assert {f.rule for f in result.findings} >= {"secret/github_token", "secret-file"}


def test_cache_makes_a_rerun_free_and_offline(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, CHANGE)
    fake_llm.push(reply(finding(2)))
    first = run(quick)
    assert len(fake_llm.chat_requests()) == 1 and first.cost > 0
    second = run(quick)
    assert len(fake_llm.chat_requests()) == 1  # no new request
    assert second.cost == 0 and second.cached and second.ran_llm
    assert [(f.line, f.rule) for f in second.findings] == [(2, "llm/div-zero")]
    assert list((quick / ".atlas" / "cache" / "review").glob("*.json"))
    # A different diff is a different key.
    stage(quick, {"calc.py": "def ratio(a, b):\n    return a / (b or 1)\n"})
    fake_llm.push(reply())
    run(quick)
    assert len(fake_llm.chat_requests()) == 2


def test_cache_is_per_model(quick: Path, fake_llm: FakeLLM) -> None:
    base = (quick / ".atlas" / "config.toml").read_text()

    def use(model: str) -> None:  # every tier, so the routed tier does not matter
        tiers = "".join(f'[tiers.{t}]\nmodels = ["{model}"]\n' for t in ("silver", "gold", "platinum"))
        (quick / ".atlas" / "config.toml").write_text(base + tiers)

    stage(quick, CHANGE)
    use("openai/gpt-4o-mini")
    fake_llm.push(reply(finding(2)))
    run(quick)
    assert run(quick).cached  # same model: from cache, no new request
    assert [r["model"] for r in fake_llm.chat_requests()] == ["openai/gpt-4o-mini"]
    use("google/gemini-2.0-flash-001")
    fake_llm.push(reply())
    switched = run(quick)
    assert not switched.cached and switched.findings == []  # not the other model's findings
    assert [r["model"] for r in fake_llm.chat_requests()] == ["openai/gpt-4o-mini",
                                                            "google/gemini-2.0-flash-001"]
    use("openai/gpt-4o-mini")
    back = run(quick)
    assert back.cached and [(f.line, f.rule) for f in back.findings] == [(2, "llm/div-zero")]
    assert len(fake_llm.chat_requests()) == 2


def test_cache_key_holds_models_and_prompt_version() -> None:
    system = "review prompt"
    key = llm._cache_key(["a/m"], system, "chunk")
    assert key == llm._cache_key(["a/m"], system, "chunk")
    assert key != llm._cache_key(["b/m"], system, "chunk")
    assert key != llm._cache_key(["a/m", "b/m"], system, "chunk")  # fallbacks count too
    assert key != llm._cache_key(["a/m"], system + " v2", "chunk")
    assert llm.prompt_version(system) != llm.prompt_version(system + " v2")


def test_skip_globs_and_binary_are_not_sent(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, {"poetry.lock": "x = 1\n", "vendor/lib.py": "y = 2\n", "app.min.js": "z\n",
                  "logo.png": b"\x89PNG\x00\x01" * 50})
    result = run(quick)
    assert fake_llm.chat_requests() == []
    assert not result.ran_llm and not result.llm_failed


def test_generated_files_are_not_sent(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, {"api_gen.go": "// Code generated by sqlc. DO NOT EDIT.\npackage db\nvar X = 1\n",
                  "schema.py": "# @generated by tool\nX = 1\n"})
    result = run(quick)
    assert fake_llm.chat_requests() == []
    assert not result.llm_failed and "generated" in result.reason


def test_provider_down_fails_open_with_a_reason(quick: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_API_KEY", "sk-test-key-for-a-closed-port-000000")
    stage(quick, CHANGE)  # ATLAS_BASE_URL points at a closed loopback port (conftest)
    result = run(quick)
    assert result.llm_failed and not result.ran_llm
    assert result.reason.startswith("LLM review did not run:")


def test_server_error_and_timeout_fail_open(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, CHANGE)
    fake_llm.handler = lambda body: Fault.server_error(503)  # every model, every attempt
    result = run(quick)
    assert result.llm_failed and "did not run" in result.reason
    (quick / ".atlas" / "config.toml").write_text(
        "[provider]\nmax_retries = 0\n[review]\nllm_timeout = 0.3\n")
    fake_llm.handler = lambda body: Fault.timeout(1.2)
    result = run(quick)
    assert result.llm_failed and "did not run" in result.reason


def test_no_key_and_llm_disabled(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_BASE_URL", "https://openrouter.ai/api/v1")
    stage(repo, CHANGE)
    result = run(repo)
    assert result.llm_failed and "no API key" in result.reason
    (repo / ".atlas").mkdir(exist_ok=True)
    (repo / ".atlas" / "config.toml").write_text("[settings]\nllm = false\n")
    assert "settings.llm = false" in run(repo).reason


def test_proposal_commit_runs_builtins_only(quick: Path, fake_llm: FakeLLM) -> None:
    stage(quick, {"calc.py": "def f(:\n"})
    result = run(quick, env={"ATLAS_PROPOSAL_COMMIT": "1"})
    assert fake_llm.chat_requests() == []
    assert not result.llm_failed and "proposal commit" in result.reason
    assert [f.rule for f in result.findings] == ["syntax/python"]


def test_cost_cap_stops_before_calling(quick: Path, fake_llm: FakeLLM) -> None:
    (quick / ".atlas" / "config.toml").write_text("[provider]\nmax_retries = 0\n[review]\nmax_cost = 1e-9\n")
    stage(quick, CHANGE)
    result = run(quick)
    assert fake_llm.chat_requests() == []
    assert result.llm_failed and "cost cap" in result.reason


def test_duplicates_merged_and_big_diffs_chunked(quick: Path, fake_llm: FakeLLM) -> None:
    (quick / ".atlas" / "config.toml").write_text(
        "[provider]\nmax_retries = 0\n[review]\nchunk_tokens = 300\n")
    body = "".join(f"def f{j}(a):\n    return a + {j}\n\n" for j in range(12))
    files = {f"m{i}.py": body for i in range(3)}
    stage(quick, files)
    fake_llm.handler = lambda body: reply(finding(2, path="m0.py"), finding(2, path="m0.py"))
    result = run(quick)
    assert len(fake_llm.chat_requests()) >= 3
    assert [(f.path, f.line) for f in result.findings] == [("m0.py", 2)]


def test_hunks_widen_to_the_enclosing_function(quick: Path, fake_llm: FakeLLM) -> None:
    body = "".join(f"def f{j}(a):\n    x = a\n    return x + {j}\n\n\n" for j in range(30))
    stage(quick, {"w.py": body})
    git(quick, "commit", "-qm", "w")
    stage(quick, {"w.py": body.replace("return x + 15\n", "return x - 15\n")})
    fake_llm.push(reply())
    run(quick)
    user = fake_llm.chat_requests()[0]["messages"][1]["content"]
    assert "def f15(a):" in user and "x = a" in user
    assert "def f14" not in user and "def f16" not in user


def test_cost_cap_counts_actual_spend_and_reviews_part(quick: Path, fake_llm: FakeLLM) -> None:
    (quick / ".atlas" / "config.toml").write_text(
        "[provider]\nmax_retries = 0\n[review]\nchunk_tokens = 300\nmax_parallel = 1\n"
        "max_cost = 0.0035\nmax_output_tokens = 10\n")  # worst case per call < $0.001
    body = "".join(f"def f{j}(a):\n    return a + {j}\n\n" for j in range(12))
    stage(quick, {f"m{i}.py": body for i in range(4)})
    fake_llm.handler = lambda body: reply()  # each reply reports usage.cost = 0.002
    result = run(quick)
    assert len(fake_llm.chat_requests()) == 2
    assert result.ran_llm and not result.llm_failed and result.cost == pytest.approx(0.004)
    assert any("cost cap" in n and "not reviewed" in n for n in result.notes)
    # A partial review is not cached as a whole: the next run reviews the rest.
    fake_llm.handler = lambda body: Reply(json.dumps({"findings": []}), cost=0.0)
    run(quick)
    assert len(fake_llm.chat_requests()) > 2
