"""The executor's syntax checks follow the shared policy of ``atlas_git.core.syntax``."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_git.core.executor.checks import run_checks


@pytest.mark.parametrize(("name", "content"), [
    # Conventionally JSONC: comments and trailing commas (the executor used to reject these).
    ("tsconfig.json", '{\n  // strict mode\n  "compilerOptions": {"strict": true,},\n}\n'),
    (".vscode/settings.json", '{\n  "editor.tabSize": 2, /* team default */\n}\n'),
    ("config.jsonc", '[1, 2, // two\n]\n'),
    ("data.json", '{"a": 1}\n// a comment makes any .json JSONC\n'),
    ("empty.json", ""),
    ("template.yaml", "Resources:\n  Q:\n    Arn: !GetAtt Queue.Arn\n    Url: !Ref Queue\n---\nb: 2\n"),
    ("chart/templates/svc.yaml", "metadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n"),
    ("ok.py", "s = '\\d'\n"),  # a SyntaxWarning is not an error
])
def test_tolerated_by_the_shared_policy(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(content)
    report = run_checks(tmp_path, [name])
    assert report.ok, report.feedback()
    assert report.ran == [f"syntax:{name}"]


@pytest.mark.parametrize(("name", "content", "where", "words"), [
    ("app.py", "x = 1\n\ndef f(:\n    pass\n", "app.py:3:7", "Python syntax error"),
    ("data.json", '{\n  "a": 1,\n}\n', "data.json:3:1", "invalid JSON"),
    ("tsconfig.json", '{\n  // ok\n  "a": 1\n  "b": 2\n}\n', "tsconfig.json:4:3", "invalid JSON"),
    ("ci.yaml", "a: 1\nb: [1, 2\nc: 3\n", "ci.yaml:3:2", "invalid YAML"),
    ("pyproject.toml", "[project]\nname = \n", "pyproject.toml:2:8", "invalid TOML"),
])
def test_broken_files_are_rejected_at_their_line(tmp_path: Path, name: str, content: str, where: str,
                                                  words: str) -> None:
    (tmp_path / name).write_text(content)
    report = run_checks(tmp_path, [name], test_command="touch ran")
    (failure,) = report.failures
    assert (failure.check, failure.path) == ("syntax", name)
    assert str(failure).startswith(f"[syntax] {where}: {words}")
    assert not (tmp_path / "ran").exists()  # tests never run on broken syntax


def test_non_utf8_is_a_failure_and_shebang_scripts_are_checked(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"s = '\xff'\n")
    (tmp_path / "deploy").write_text("#!/usr/bin/env bash\necho $(\n")
    report = run_checks(tmp_path, ["a.py", "deploy", "missing.py"])
    assert [(f.path, f.message[:15]) for f in report.failures] == [
        ("a.py", "not valid UTF-8"), ("deploy", "shell syntax er")]
    assert report.failures[1].line == 3  # bash reports the end of input
