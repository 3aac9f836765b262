"""The sandbox's limits and the syntax/lint/test checks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from atlas_git.core.executor.checks import run_checks
from atlas_git.core.executor.sandbox import no_network_prefix, run_sandboxed, safe_env


def test_environment_has_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("OPENROUTER_API_KEY", "ATLAS_API_KEY", "GITHUB_TOKEN", "MY_SERVICE_TOKEN",
                "AWS_SECRET_ACCESS_KEY", "GIT_INDEX_FILE"):
        monkeypatch.setenv(key, "leak-me")
    monkeypatch.setenv("HARMLESS", "ok")
    env = safe_env()
    assert "HARMLESS" in env and not any(v == "leak-me" for v in env.values())
    result = run_sandboxed("env", cwd=tmp_path)
    assert result.ok and "leak-me" not in result.output and "HARMLESS=ok" in result.output


def test_time_limit_kills_the_process_tree(tmp_path: Path) -> None:
    result = run_sandboxed("sleep 30 & sleep 30; echo never", cwd=tmp_path, timeout=0.5)
    assert result.timed_out and not result.ok and result.duration < 5
    assert "never" not in result.output and "timed out" in result.output


def test_output_is_capped(tmp_path: Path) -> None:
    result = run_sandboxed([sys.executable, "-c", "print('x' * 1_000_000); print('THE END')"],
                           cwd=tmp_path, output_bytes=10_000)
    assert result.truncated and len(result.output) < 12_000 and "THE END" in result.output


def test_memory_limit(tmp_path: Path) -> None:
    result = run_sandboxed([sys.executable, "-c", "b = bytearray(600 * 1024 * 1024); print('allocated')"],
                           cwd=tmp_path, memory_mb=256)
    assert not result.ok and "allocated" not in result.output


def test_no_network_when_unshare_works(tmp_path: Path) -> None:
    if not no_network_prefix():
        pytest.skip("unprivileged network namespaces are not available here")
    code = ("import socket\ns = socket.socket()\ns.settimeout(1)\n"
            "try:\n    s.connect(('1.1.1.1', 53))\n    print('connected')\n"
            "except OSError as e:\n    print('blocked', e)\n")
    result = run_sandboxed([sys.executable, "-c", code], cwd=tmp_path)
    assert result.network_isolated and "blocked" in result.output


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("a.py", "x = 1\n", "def f(:\n"),
    ("a.json", '{"a": 1}', '{"a": }'),
    ("a.toml", "a = 1\n", "a = \n"),
    ("a.yaml", "a: [1, 2]\n", "a: [1, 2\n"),
    ("a.sql", "CREATE TABLE t (x INT);\n", "CREATE TABLE t (x INT\n"),
    ("a.sh", "echo hi\n", "if then fi\n"),
    ("a.js", "const a = 1;\n", "const = ;\n"),
])
def test_syntax_checks(tmp_path: Path, name: str, good: str, bad: str) -> None:
    if name.endswith(".js") and not shutil.which("node"):
        pytest.skip("node not installed")
    (tmp_path / name).write_text(good)
    assert run_checks(tmp_path, [name]).ok
    (tmp_path / name).write_text(bad)
    report = run_checks(tmp_path, [name])
    assert not report.ok and report.failures[0].check == "syntax" and report.failures[0].path == name


def test_lint_and_test_commands_run_after_syntax(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    report = run_checks(tmp_path, ["a.py"], test_command="echo failing-test >&2; exit 1",
                        lint_command="true")
    assert [r.split(":")[0] for r in report.ran] == ["syntax", "lint", "test"]
    assert not report.ok and "failing-test" in report.feedback()
    (tmp_path / "a.py").write_text("def (:\n")
    report = run_checks(tmp_path, ["a.py"], test_command="touch ran")
    assert not (tmp_path / "ran").exists()  # tests do not run on broken syntax


@pytest.mark.parametrize(("name", "code", "expected"), [
    ("gen.sql", "CREATE TABLE t (x INT);\nINSERT INTO t VALUES (2), (3);\nSELECT SUM(x) FROM t;\n", "5"),
    ("gen.sh", "echo $((2 + 3))\n", "5"),
    ("gen.js", "console.log(2 + 3);\n", "5"),
    ("gen.py", "print(2 + 3)\n", "5"),
])
def test_generated_code_runs_by_extension(tmp_path: Path, name: str, code: str, expected: str) -> None:
    from atlas_git.core.executor.sandbox import interpreter_for

    if name.endswith(".js") and not shutil.which("node"):
        pytest.skip("node not installed")
    (tmp_path / name).write_text(code)
    argv = interpreter_for(name)
    assert argv is not None
    result = run_sandboxed(argv, cwd=tmp_path)
    assert result.ok, result.output
    assert result.output.strip() == expected


def test_tests_import_the_worktree_copy_first(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("WHERE = 'worktree'\n")
    report = run_checks(tmp_path, [], test_command=f"{sys.executable} -c \"import pkg; "
                        "assert pkg.WHERE == 'worktree'\"")
    assert report.ok, report.feedback()
