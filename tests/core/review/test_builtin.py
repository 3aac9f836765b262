"""Built-in checks on real staged changes: true positives at the right line, no false ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from tests.core.review.helpers import review_staged, rules, stage

GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.mark.parametrize(("name", "content", "line", "rule"), [
    ("bad.py", "x = 1\n\ndef f(:\n    pass\n", 3, "syntax/python"),
    ("bad.json", '{\n  "a": 1,\n}\n', 3, "syntax/json"),
    ("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n", 3, "syntax/yaml"),
    ("bad.toml", "[x]\na = \n", 2, "syntax/toml"),
    ("bad.sh", "#!/bin/sh\nif true; then\n  echo\nfi fi\n", 4, "syntax/shell"),
    ("bin/deploy", "#!/usr/bin/env bash\necho $(\n", 2, "syntax/shell"),
])
def test_syntax_errors_are_found_at_the_right_line(repo: Path, name: str, content: str, line: int,
                                                    rule: str) -> None:
    result = review_staged(repo, {name: content})
    assert rules(result) == [(name, line, rule)]
    assert all(f.severity == "error" and f.source == "builtin" for f in result.findings)


def test_javascript_through_node(repo: Path) -> None:
    import shutil

    if shutil.which("node") is None:
        pytest.skip("node not installed")
    result = review_staged(repo, {
        "bad.js": "const a = 1;\nlet x = ;\n",
        "bad.mjs": "import fs from 'fs';\nexport const y = (;\n",
        "ok.js": "#!/usr/bin/env node\nreturn;\n",  # CommonJS: top-level return is legal
        "ok.mjs": "import fs from 'fs';\nexport default fs;\n",
    })
    assert rules(result) == [("bad.js", 2, "syntax/js"), ("bad.mjs", 2, "syntax/js")]


@pytest.mark.parametrize(("name", "content"), [
    ("ok.py", "def f():\n    return 1\n"),
    ("ok.py", "s = '\\d'\n"),  # SyntaxWarning is not an error
    ("latin.py", b"# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n"),
    ("notes.txt", b"caf\xe9 \xff\xfe odd bytes\n"),
    ("tsconfig.json", '{\n  // comment\n  "a": 1,\n}\n'),
    ("settings.json", '{\n  /* block */ "a": 1\n}\n'),
    ("cfn.yaml", "Resources:\n  B:\n    Value: !Ref Other\n---\nsecond: doc\n"),
    ("chart/templates/d.yaml", "metadata:\n  name: {{ .Release.Name }}\n  {{- include \"x\" . }}\n"),
    ("ok.toml", "[tool]\na = 1\n"),
    ("empty.json", ""),
    ("README.md", "Title\n=======\n\n<<<<<<< not a conflict\n"),
    ("prompts.toml", 'edit = """\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"""\n'),
    ("docs.md", "Use `breakpoint()` to debug, and `debugger;` in JS.\n"),
    ("ok.sh", "#!/bin/sh\necho hi\n"),
    ("fixture.py", "BAD = '''import pdb\n\ndef f():\n    pdb.set_trace()\n    breakpoint()\n'''\n"),
])
def test_no_false_findings(repo: Path, name: str, content: str | bytes) -> None:
    assert review_staged(repo, {name: content}).findings == []


def test_syntax_error_reported_on_unchanged_line_moves_to_the_change(repo: Path) -> None:
    stage(repo, {"m.py": "def a():\n    return 1\n\n\ndef b():\n    return 2\n"})
    git(repo, "commit", "-qm", "m")
    # The added line opens a bracket; the parser only fails later, on an unchanged line.
    result = review_staged(repo, {"m.py": "def a():\n    return (1\n\n\ndef b():\n    return 2\n"})
    (finding,) = result.findings
    assert finding.line == 2 and finding.rule == "syntax/python"


def test_pre_existing_syntax_error_is_not_the_change_s_fault(repo: Path) -> None:
    stage(repo, {"old.py": "print 'python 2'\n\nx = 1\n"})
    git(repo, "commit", "-qm", "py2")
    assert review_staged(repo, {"old.py": "print 'python 2'\n\nx = 2\n"}).findings == []


def test_conflict_markers(repo: Path) -> None:
    content = "a = 1\n<<<<<<< HEAD\nb = 2\n=======\nb = 3\n>>>>>>> feature\n"
    result = review_staged(repo, {"c.txt": content})
    assert rules(result) == [("c.txt", 2, "conflict-marker")]
    assert result.findings[0].end_line == 6


def test_secrets_in_added_lines_only(repo: Path) -> None:
    stage(repo, {"conf.py": f"TOKEN = '{GH}'\n"})
    git(repo, "commit", "-qm", "pre-existing secret is not this change's finding")
    url = "https://u:Zq8wX2pL9mR4@h.io/"  # pragma: allowlist secret
    result = review_staged(repo, {"conf.py": f"TOKEN = '{GH}'\nURL = '{url}'\n"})
    assert rules(result) == [("conf.py", 2, "secret/url_credentials")]
    assert "Zq8wX2pL9mR4" not in result.findings[0].message


def test_rename_reports_at_the_new_path(repo: Path) -> None:
    (repo / "lib").mkdir()
    git(repo, "mv", "app.py", "lib/calc.py")
    result = review_staged(repo, {"lib/calc.py": "def add(a, b):\n    return a + b\nbreakpoint()\n"})
    assert rules(result) == [("lib/calc.py", 3, "debugger")]


def test_allowlist_pragma(repo: Path) -> None:
    result = review_staged(repo, {"t.py": f"T = '{GH}'  # pragma: allowlist secret\n"})
    assert result.findings == []


def test_env_files_and_keys(repo: Path) -> None:
    result = review_staged(repo, {".env": "DEBUG=1\n", ".env.example": "API_KEY=\n",
                                  "deploy/id_rsa": "not really\n", ".npmrc": "registry=x\n"})
    found = {(f.path, f.rule, f.severity) for f in result.findings}
    assert found == {(".env", "secret-file", "error"), ("deploy/id_rsa", "secret-file", "error"),
                     (".npmrc", "secret-file", "warning")}


def test_debugger_leftovers(repo: Path) -> None:
    result = review_staged(repo, {
        "d.py": "import pdb\nx = 1\nbreakpoint()\n# breakpoint()\ns = 'pdb.set_trace()'\n"
                "    import ipdb; ipdb.set_trace()\n",
        "d.js": "function f() {\n  debugger;\n  const debuggerEnabled = 1;\n}\n",
        "d.rb": "def f\n  binding.pry\nend\n",
    })
    got = {(f.path, f.line, f.severity) for f in result.findings if f.rule == "debugger"}
    assert got == {("d.py", 1, "warning"), ("d.py", 3, "error"), ("d.py", 6, "error"),
                   ("d.js", 2, "error"), ("d.rb", 2, "error")}


def test_large_added_file(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    (repo / ".atlas" / "config.toml").write_text("[review]\nmax_added_file_bytes = 1000\n")
    result = review_staged(repo, {"big.bin": b"\x00" * 5000, "small.txt": "x\n"})
    assert rules(result) == [("big.bin", 1, "large-file")]


def test_huge_binary_and_deleted_files_do_not_crash(repo: Path) -> None:
    big_text = "".join(f"value_{i} = {i}\n" for i in range(20_000))
    result = review_staged(repo, {"huge.py": big_text, "blob.png": bytes(range(256)) * 400,
                                  "README.md": None, "app.py": b"\xff\xfe\x00bin"})
    assert result.findings == [] or {f.rule for f in result.findings} == {"large-file"}


def test_initial_commit_and_submodule(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    result = review_staged(tmp_path, {"a.py": "def f(:\n"})
    assert rules(result) == [("a.py", 1, "syntax/python")]
    stage(tmp_path, {"a.py": "def f():\n    pass\n"})
    git(tmp_path, "commit", "-qm", "root")
    head = git(tmp_path, "rev-parse", "HEAD").strip()
    git(tmp_path, "update-index", "--add", "--cacheinfo", f"160000,{head},sub")
    assert review_staged(tmp_path).findings == []


def test_real_merge_conflict_added_with_markers(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    stage(repo, {"app.py": "def add(a, b):\n    return a + b + 1\n"})
    git(repo, "commit", "-qm", "other")
    git(repo, "checkout", "-q", "main")
    stage(repo, {"app.py": "def add(a, b):\n    return a + b + 2\n"})
    git(repo, "commit", "-qm", "main")
    subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)  # conflicts
    assert review_staged(repo).findings == []  # unmerged entries: nothing staged to review yet
    git(repo, "add", "app.py")  # the classic mistake: markers staged as resolved
    result = review_staged(repo)
    assert rules(result) == [("app.py", 2, "conflict-marker"), ("app.py", 2, "syntax/python")]
