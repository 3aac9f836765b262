"""``git atlas fix`` and friends end to end against the scripted FakeLLM server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import git
from tests.executor_support import atlas_branches, cli, search_replace, snapshot, worktrees

FAST_PROVIDER = "[provider]\nbackoff_base = 0.01\nbackoff_max = 0.02\n"


def _config(repo: Path, text: str) -> None:
    (repo / ".atlas").mkdir(exist_ok=True)
    (repo / ".atlas" / "config.toml").write_text(text)


def _run(monkeypatch: pytest.MonkeyPatch, repo: Path, capsys: pytest.CaptureFixture[str],
         *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli(monkeypatch, repo, *args, "--json", "--yes")
    out = capsys.readouterr().out
    return rc, json.loads(out) if out.strip() else {}


def _edit(monkeypatch: pytest.MonkeyPatch, repo: Path, capsys: pytest.CaptureFixture[str],
          *extra: str, request: str = "make add commutative-looking") -> tuple[int, dict]:
    return _run(monkeypatch, repo, capsys, "edit", request, "app.py", "--tier", "gold", *extra)


def test_search_replace_reply_becomes_a_proposal(repo: Path, fake_llm: FakeLLM,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "wip.txt").write_text("user's untracked work\n")
    before = snapshot(repo)
    fake_llm.push(Reply("Here:\n```\n" + search_replace("app.py", "    return a + b\n",
                                                          "    return b + a\n") + "```\n", cost=0.0021))
    rc, data = _edit(monkeypatch, repo, capsys)
    assert rc == 0, data
    assert data["status"] == "proposed" and data["files"] == ["app.py"]
    assert snapshot(repo) == before and worktrees(repo) == [str(repo)]
    assert "return b + a" in git(repo, "show", f"{data['branch']}:app.py")
    msg = git(repo, "log", "-1", "--format=%B", data["branch"])
    for trailer in ("Atlas-Request: make add commutative-looking", "Atlas-Intent: edit",
                    "Atlas-Tier: gold", "Atlas-Model: deepseek/deepseek-chat-v3.1", "Atlas-Cost: 0.002100"):
        assert trailer in msg
    # The model saw the file from the base commit.
    sent = fake_llm.chat_requests()
    assert len(sent) == 1 and "def add(a, b):" in sent[0]["messages"][1]["content"]


def test_clean_and_sloppy_diffs(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    clean = ("--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,3 @@\n def add(a, b):\n"
             "+    \"\"\"Add.\"\"\"\n     return a + b\n")
    sloppy = ("I changed it:\n```diff\n--- app.py\n+++ app.py\n@@ -40,7 +40,99 @@\n def add(a, b):\n"
              "-    return a + b\n+    return int(a) + int(b)\n```\n")
    fake_llm.push(Reply(clean), Reply(sloppy))
    rc1, d1 = _edit(monkeypatch, repo, capsys)
    rc2, d2 = _edit(monkeypatch, repo, capsys)
    assert (rc1, rc2) == (0, 0), (d1, d2)
    assert '"""Add."""' in git(repo, "show", f"{d1['branch']}:app.py")
    assert "int(a) + int(b)" in git(repo, "show", f"{d2['branch']}:app.py")
    assert d1["branch"] != d2["branch"] and len(atlas_branches(repo)) == 2


def test_failing_tests_are_fed_back_and_the_retry_passes(repo: Path, fake_llm: FakeLLM,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "test_app.py").write_text("from app import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    git(repo, "add", "test_app.py")
    git(repo, "commit", "-qm", "tests")
    wrong = search_replace("app.py", "    return a + b\n", "    return a - b\n")
    right = search_replace("app.py", "    return a + b\n", "    return b + a  # same result\n")
    fake_llm.push(Reply(wrong, cost=0.001), Reply(right, cost=0.002))
    test_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    rc, data = _edit(monkeypatch, repo, capsys, "--test", test_cmd)
    assert rc == 0, data
    assert data["attempts"] == 2 and abs(data["cost"] - 0.003) < 1e-9
    sent = fake_llm.chat_requests()
    assert len(sent) == 2
    feedback = sent[1]["messages"][-1]["content"]
    assert "could not be accepted" in feedback and "assert" in feedback  # the real pytest failure
    assert "same result" in git(repo, "show", f"{data['branch']}:app.py")
    # Both attempts are ledger rows of the same request.
    from atlas_git.core.ledger import open_ledger

    ledger = open_ledger(None, repo)
    assert ledger is not None
    rows = ledger._read("SELECT COUNT(*) FROM calls WHERE request_id = ?", (data["id"],))
    assert rows[0][0] == 2


def test_checks_still_failing_keeps_a_flagged_proposal(repo: Path, fake_llm: FakeLLM,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = search_replace("app.py", "    return a + b\n", "    return a +\n")
    fake_llm.push(Reply(bad), Reply(bad))
    rc, data = _edit(monkeypatch, repo, capsys, "--max-attempts", "2")
    assert rc == 1 and data["status"] == "checks-failed"
    assert "Atlas-Checks: failed" in git(repo, "log", "-1", "--format=%B", data["branch"])


def test_malicious_path_is_refused_without_a_branch(repo: Path, fake_llm: FakeLLM,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(repo)
    fake_llm.push(Reply(search_replace("../../evil.sh", "", "rm -rf ~\n")))
    rc = cli(monkeypatch, repo, "edit", "do it", "app.py", "--tier", "gold", "--yes")
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("atlas: error:")]
    assert rc == 1 and "refused path '../../evil.sh'" in line and "no branch" in line
    assert atlas_branches(repo) == [] and snapshot(repo) == before and worktrees(repo) == [str(repo)]
    assert not (repo.parent.parent / "evil.sh").exists()


def test_secrets_never_reach_the_provider(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-proj-" + "Q7x9Lm2Vb8Nc4Zr6Tw1Ys3Ud5Fh0Jk" * 2
    aws = "AKIA" + "Z7QF3KD9LMX2PW4R"
    (repo / "settings.py").write_text(f'OPENAI_API_KEY = "{key}"\nAWS = "{aws}"\n\ndef load_settings():\n'
                                      "    return {}\n")
    (repo / ".env").write_text(f"OPENAI_API_KEY={key}\n")
    git(repo, "add", "-f", "settings.py", ".env")
    git(repo, "commit", "-qm", "settings")
    fake_llm.push(Reply(search_replace("settings.py", "    return {}\n", "    return {'ok': True}\n")))
    rc, data = _run(monkeypatch, repo, capsys, "edit", "make load_settings return ok", "--tier", "gold")
    sent = fake_llm.all_text_sent()
    assert "load_settings" in sent  # the file was found from the request's words and sent
    assert key not in sent and aws not in sent and "OPENAI_API_KEY=" not in sent
    assert ".env" in dict(data.get("skipped", [])) or ".env" not in sent
    # Refuse mode: nothing at all is sent.
    _config(repo, '[secrets]\nmode = "refuse"\n')
    count = len(fake_llm.chat_requests())
    rc = cli(monkeypatch, repo, "edit", "make load_settings return ok", "settings.py", "--tier", "gold")
    assert rc == 1 and "secret" in capsys.readouterr().err
    assert len(fake_llm.chat_requests()) == count


def test_llm_opt_out_sends_nothing(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    _config(repo, "[settings]\nllm = false\n")
    rc = cli(monkeypatch, repo, "fix", "handle empty input", "app.py")
    assert rc == 1 and "settings.llm = false" in capsys.readouterr().err
    assert fake_llm.requests == [] and atlas_branches(repo) == []


def test_format_is_free_and_makes_no_provider_call(repo: Path, fake_llm: FakeLLM,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "ugly.py").write_text("def f( x ):\n  return {'a':x}\n")
    git(repo, "add", "ugly.py")
    git(repo, "commit", "-qm", "ugly")
    before = snapshot(repo)
    rc, data = _run(monkeypatch, repo, capsys, "format", "ugly.py")
    assert rc == 0, data
    assert data["status"] == "proposed" and data["cost"] == 0 and data["files"] == ["ugly.py"]
    assert git(repo, "show", f"{data['branch']}:ugly.py") == 'def f(x):\n    return {"a": x}\n'
    assert fake_llm.requests == [] and snapshot(repo) == before
    assert "Atlas-Cost: 0" in git(repo, "log", "-1", "--format=%B", data["branch"])
    rc, data = _run(monkeypatch, repo, capsys, "format", "app.py")  # already formatted
    assert rc == 0 and data["status"] == "unchanged" and data["branch"] is None


def test_explain_prints_and_makes_no_branch(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.push(Reply("`add` returns the sum of its arguments."), Reply("Saved answer."))
    rc = cli(monkeypatch, repo, "explain", "what does add do", "app.py", "--tier", "silver")
    assert rc == 0 and "returns the sum" in capsys.readouterr().out
    out = repo.parent / "answer.md"
    rc = cli(monkeypatch, repo, "explain", "what does add do", "app.py", "--tier", "silver",
             "--output", str(out))
    assert rc == 0 and out.read_text() == "Saved answer.\n"
    assert atlas_branches(repo) == []
    assert fake_llm.chat_requests()[0]["messages"][0]["content"].startswith("You explain code")


def test_dry_run_spends_nothing(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    # Forced route: a routed dry run would load the semantic router (slow on a cold cache).
    rc, data = _run(monkeypatch, repo, capsys, "edit", "handle None in add", "app.py", "--tier", "gold",
                    "--dry-run")
    assert rc == 0 and data["status"] == "dry-run"
    assert data["files"] == ["app.py"] and data["decision"]["model"]
    assert data["estimated_cost"] is not None
    assert fake_llm.requests == [] and atlas_branches(repo) == []


@pytest.mark.parametrize("fault", ["server_error", "garbage"])
def test_provider_faults_end_cleanly(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], fault: str) -> None:
    _config(repo, FAST_PROVIDER + "max_retries = 1\n")
    before = snapshot(repo)
    if fault == "server_error":
        fake_llm.default = Fault.server_error(500)
    else:
        fake_llm.default = Reply("I would rather not edit files today.")
    rc = cli(monkeypatch, repo, "edit", "x", "app.py", "--tier", "silver", "--max-attempts", "2", "--yes")
    err = capsys.readouterr()
    assert rc == 1
    assert "Traceback" not in err.err
    assert atlas_branches(repo) == [] and snapshot(repo) == before and worktrees(repo) == [str(repo)]
    if fault == "server_error":
        assert "500" in err.err
    else:
        assert "no proposal" in err.out and len(fake_llm.chat_requests()) == 2


def test_rate_limit_then_success_is_retried(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _config(repo, FAST_PROVIDER)
    fake_llm.push(Fault.rate_limit(retry_after=0),
                  Reply(search_replace("app.py", "    return a + b\n", "    return b + a\n")))
    rc, data = _edit(monkeypatch, repo, capsys)
    assert rc == 0 and data["status"] == "proposed"


def test_timeout_is_a_clear_error(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _config(repo, FAST_PROVIDER + "max_retries = 0\nread_timeout = 0.3\n")
    fake_llm.push(Fault.timeout(1.5))
    rc = cli(monkeypatch, repo, "edit", "x", "app.py", "--model", "openai/gpt-4o-mini", "--yes")
    assert rc == 1 and "did not answer in time" in capsys.readouterr().err
    assert atlas_branches(repo) == []


def test_staged_changes_are_the_base_and_the_index_is_untouched(
        repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n")
    git(repo, "add", "app.py")
    before = snapshot(repo)
    fake_llm.push(Reply(search_replace("app.py", "    return a * b\n", "    return b * a\n")))
    rc, data = _run(monkeypatch, repo, capsys, "edit", "swap mul", "--staged", "--tier", "gold")
    assert rc == 0, data
    assert data["files"] == ["app.py"] and snapshot(repo) == before
    parent = git(repo, "rev-parse", f"{data['branch']}^").strip()
    assert parent != git(repo, "rev-parse", "HEAD").strip()
    assert "def mul" in git(repo, "show", f"{parent}:app.py")
    assert "return b * a" in git(repo, "show", f"{data['branch']}:app.py")
    prompt = fake_llm.chat_requests()[0]["messages"][1]["content"]
    assert "staged changes" in prompt and "+def mul(a, b):" in prompt


def test_debug_runs_the_failing_test_first(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "test_app.py").write_text("from app import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "bug")
    fake_llm.push(Reply(search_replace("app.py", "    return a - b\n", "    return a + b\n")))
    rc, data = _run(monkeypatch, repo, capsys, "debug", "test_add fails", "app.py", "test_app.py",
                    "--tier", "gold", "--test", f"{sys.executable} -m pytest -q -p no:cacheprovider")
    assert rc == 0, data
    first = fake_llm.chat_requests()[0]["messages"][1]["content"]
    assert "Output of running the failing code" in first and "assert -1 == 5" in first


def test_generate_run_executes_in_the_sandbox(repo: Path, fake_llm: FakeLLM,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-should-not-leak")
    code = "import os\nprint('hello from', 'generated')\nprint(os.environ.get('SOME_SERVICE_TOKEN'))\n"
    fake_llm.push(Reply(search_replace("hello.py", "", code)))
    rc, data = _run(monkeypatch, repo, capsys, "generate", "a hello script", "hello.py", "--tier", "silver",
                    "--run")
    assert rc == 0, data
    (run,) = data["run"]
    assert run["path"] == "hello.py" and "hello from generated" in run["output"]
    assert "tok-should-not-leak" not in run["output"]


def test_routed_fix_escalates_a_tier_after_repeated_failures(
        repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    verdict = json.dumps({"intent": "edit", "tier": "gold", "confidence": 0.95, "reasoning": "edit"})
    fake_llm.push(Reply(verdict, only_model="openai/gpt-4o-mini"))
    bad = Reply("no edits here")
    good = Reply(search_replace("app.py", "    return a + b\n", "    return b + a\n"))
    fake_llm.push(bad, bad, good)
    rc, data = _run(monkeypatch, repo, capsys, "fix", "rename nothing but reorder add", "app.py",
                    "--max-attempts", "3")
    assert rc == 0, data
    models = [r["model"] for r in fake_llm.chat_requests()]
    assert models[1] in ("deepseek/deepseek-chat-v3.1", "openai/gpt-4.1-mini", "google/gemini-2.5-flash")
    platinum = ("google/gemini-2.5-pro", "openai/gpt-4.1", "anthropic/claude-sonnet-4")
    assert models[-1] in platinum and data["escalations"] == ["platinum"]
    assert data["tier"] == "platinum"


def test_paths_are_relative_to_the_current_directory(repo: Path, fake_llm: FakeLLM,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "mod.py").write_text("X = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pkg")
    fake_llm.push(Reply(search_replace("pkg/mod.py", "X = 1\n", "X = 2\n")))
    capsys.readouterr()
    rc = cli(monkeypatch, repo / "pkg", "edit", "set X to 2", "mod.py", "--tier", "gold", "--json")
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["files"] == ["pkg/mod.py"]
    assert cli(monkeypatch, repo / "pkg", "edit", "x", "../../outside.py", "--tier", "gold") == 2


def test_fix_inside_a_pre_commit_hook_leaves_the_commit_alone(repo: Path, fake_llm: FakeLLM) -> None:
    """git exports GIT_INDEX_FILE to hooks; a fix run there must not write into it."""
    fake_llm.push(Reply(search_replace("app.py", "    return a + b\n", "    return b + a\n")))
    out = repo.parent / "hook.json"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        "#!/bin/sh\n[ -n \"$ATLAS_PROPOSAL_COMMIT\" ] && exit 0\n"
        f"{sys.executable} -m atlas_git edit 'swap add' app.py --tier gold --yes --json > {out}\n"
        "exit 0\n")
    hook.chmod(0o755)
    (repo / "README.md").write_text("# demo\nuser change\n")
    (repo / "wip.py").write_text("partial = True\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "user commit")
    data = json.loads(out.read_text())
    assert data["status"] == "proposed", data
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["README.md"]
    assert git(repo, "show", "--name-only", "--format=", data["branch"]).split() == ["app.py"]
    assert git(repo, "status", "--porcelain") == "?? wip.py\n"
    assert worktrees(repo) == [str(repo)]


def test_no_escalation_beyond_the_budget(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _config(repo, "[budget]\ndaily = 0.009\n")
    verdict = json.dumps({"intent": "edit", "tier": "gold", "confidence": 0.95, "reasoning": "edit"})
    fake_llm.push(Reply(verdict, only_model="openai/gpt-4o-mini", cost=0.0))
    bad = Reply("no edits here", cost=0.001)
    good = Reply(search_replace("app.py", "    return a + b\n", "    return b + a\n"), cost=0.001)
    fake_llm.push(bad, bad, good)
    rc, data = _run(monkeypatch, repo, capsys, "fix", "reorder the operands in add", "app.py",
                    "--max-attempts", "3")
    assert rc == 0, data
    assert "escalations" not in data and data["tier"] == "gold"
    gold = ("deepseek/deepseek-chat-v3.1", "openai/gpt-4.1-mini", "google/gemini-2.5-flash")
    assert fake_llm.chat_requests()[-1]["model"] in gold


def test_a_hook_rejection_is_fed_back_like_a_failed_check(repo: Path, fake_llm: FakeLLM,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nif git diff --cached | grep -q 'print('; then\n"
                    "  echo 'policy: no print() in library code' >&2; exit 1\nfi\n")
    hook.chmod(0o755)
    noisy = search_replace("app.py", "    return a + b\n", "    print(a, b)\n    return a + b\n")
    quiet = search_replace("app.py", "    return a + b\n", "    return b + a\n")
    fake_llm.push(Reply(noisy), Reply(quiet))
    rc, data = _edit(monkeypatch, repo, capsys)
    assert rc == 0 and data["attempts"] == 2, data
    feedback = fake_llm.chat_requests()[1]["messages"][-1]["content"]
    assert "policy: no print() in library code" in feedback
    assert "print(" not in git(repo, "show", f"{data['branch']}:app.py")
    # A hook that never accepts: no branch at all.
    fake_llm.push(Reply(noisy), Reply(noisy))
    rc, data = _edit(monkeypatch, repo, capsys, "--max-attempts", "2")
    assert rc == 1 and data["status"] == "failed" and data["branch"] is None
    assert len(atlas_branches(repo)) == 1


def test_an_edit_already_present_ends_without_retries(repo: Path, fake_llm: FakeLLM,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text('def add(a, b):\n    """Add."""\n    return a + b\n')
    git(repo, "commit", "-qam", "docstring")
    same = ('--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,3 @@\n def add(a, b):\n+    """Add."""\n'
            "     return a + b\n")
    fake_llm.push(Reply(same), Reply(same))
    rc, data = _edit(monkeypatch, repo, capsys)
    assert rc == 0 and data["status"] == "unchanged" and data["branch"] is None, data
    assert len(fake_llm.chat_requests()) == 1 and atlas_branches(repo) == []


def test_whole_file_reply(repo: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    fake_llm.push(Reply("Here is the new file:\n\napp.py\n```python\ndef add(a, b):\n"
                        "    return sum((a, b))\n```\n"))
    rc, data = _edit(monkeypatch, repo, capsys)
    assert rc == 0, data
    assert git(repo, "show", f"{data['branch']}:app.py") == "def add(a, b):\n    return sum((a, b))\n"
