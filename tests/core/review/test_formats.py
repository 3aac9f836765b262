"""Output formats: SARIF against the official schema, GitHub escaping, rdjson, text, json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from atlas_git.core.review import formats
from atlas_git.core.review.findings import Finding, ReviewResult

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif-schema-2.1.0.json"


def sample() -> ReviewResult:
    return ReviewResult(findings=[
        Finding("src/a b,c:d%.py", 3, 3, "error", "syntax/python", "Python syntax error: 100% bad\nnext"),
        Finding("src/x.py", 10, 12, "warning", "llm/null-deref", "x may be None", "llm", "if x:\n    y()"),
        Finding("docs/r.md", 1, 1, "info", "llm/typo", "typo", "llm"),
    ], ran_builtin=True, ran_llm=True, reason="LLM review: 1 of 1 part(s), $0.0010", files=3)


def test_sarif_validates_against_the_official_schema() -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    log = json.loads(formats.render_sarif(sample()))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "atlas-git"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    first = run["results"][0]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "docs/r.md" and loc["region"]["startLine"] == 1
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}
    odd = next(r for r in run["results"] if r["ruleId"] == "syntax/python")
    assert odd["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/a%20b%2Cc%3Ad%25.py"
    fixed = next(r for r in run["results"] if "fixes" in r)
    replacement = fixed["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "if x:\n    y()"


def test_sarif_fingerprints_survive_line_shifts() -> None:
    a = Finding("p.py", 3, 3, "error", "secret/jwt", "possible jwt")
    b = Finding("p.py", 30, 30, "error", "secret/jwt", "possible jwt")
    c = Finding("q.py", 3, 3, "error", "secret/jwt", "possible jwt")
    assert formats.fingerprint(a) == formats.fingerprint(b) != formats.fingerprint(c)
    log = json.loads(formats.render_sarif(ReviewResult(findings=[a])))
    assert log["runs"][0]["results"][0]["partialFingerprints"]["atlasFindingHash/v1"]


def test_empty_sarif_is_valid() -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(json.loads(formats.render_sarif(ReviewResult())))


def test_github_workflow_commands_are_escaped() -> None:
    lines = formats.render_github(sample()).splitlines()
    assert lines[0] == "::notice file=docs/r.md,line=1,endLine=1,title=atlas llm/typo::typo"
    err = next(line for line in lines if line.startswith("::error"))
    assert err == ("::error file=src/a b%2Cc%3Ad%25.py,line=3,endLine=3,title=atlas syntax/python::"
                   "Python syntax error: 100%25 bad%0Anext")
    warn = next(line for line in lines if line.startswith("::warning"))
    assert "endLine=12" in warn and "%0A%0ASuggested change:%0Aif x:%0A    y()" in warn
    assert formats.render_github(ReviewResult()) == ""


def test_rdjson_shape() -> None:
    doc = json.loads(formats.render_rdjson(sample()))
    assert doc["source"]["name"] == "atlas-git" and doc["severity"] == "ERROR"
    by_code = {d["code"]["value"]: d for d in doc["diagnostics"]}
    d = by_code["llm/null-deref"]
    assert d["location"] == {"path": "src/x.py", "range": {"start": {"line": 10, "column": 1},
                                                           "end": {"line": 12}}}
    assert d["severity"] == "WARNING"
    assert d["suggestions"] == [{"range": {"start": {"line": 10, "column": 1},
                                           "end": {"line": 13, "column": 1}}, "text": "if x:\n    y()\n"}]
    assert by_code["llm/typo"]["severity"] == "INFO"


def test_json_contract() -> None:
    data = json.loads(formats.render_json(sample()))
    assert set(data) == {"findings", "ran"}
    assert data["ran"] == {"builtin": True, "llm": True, "reason": "LLM review: 1 of 1 part(s), $0.0010"}
    keys = {"path", "line", "end_line", "severity", "rule", "message", "source"}
    assert all(keys <= set(f) for f in data["findings"])
    assert [f.get("suggestion") for f in data["findings"]] == [None, None, "if x:\n    y()"]


@pytest.mark.parametrize(("env", "coloured"), [({"NO_COLOR": "1"}, False), ({"FORCE_COLOR": "1"}, True)])
def test_text_grouped_by_file_and_colour(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                         coloured: bool) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    text = formats.render_text(sample(), io.StringIO())
    assert ("\033[" in text) is coloured
    assert text.index("docs/r.md") < text.index("src/a b,c:d%.py") < text.index("src/x.py")
    assert "1 error, 1 warning, 1 info in 3 files" in text
