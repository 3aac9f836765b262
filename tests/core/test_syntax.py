"""The one syntax policy, checked directly (callers: executor checks and review built-ins)."""

from __future__ import annotations

import pytest

from atlas_git.core import syntax


@pytest.mark.parametrize(("path", "first", "lang"), [
    ("a/b.PY", b"", "python"), ("x.cjs", b"", "js"), ("tsconfig.json", b"", "json"),
    ("c.jsonc", b"", "json"), ("q.sql", b"", "sql"), ("bin/run", b"#!/bin/sh", "shell"),
    ("bin/run", b"#!/usr/bin/env python3", None), ("README", b"", None),
])
def test_language(path: str, first: bytes, lang: str | None) -> None:
    assert syntax.language(path, first) == lang


def test_jsonc_keeps_line_numbers_and_strings() -> None:
    text = b'{\n  /* a\n  block */ "url": "http://x//y", // c\n  "a": [1, /* x */],\n  "b": 1 2\n}\n'
    assert syntax.check_json({"tsconfig.json": text}) == {
        "tsconfig.json": syntax.Problem(5, 10, "invalid JSON: Expecting ',' delimiter")}
    # The same trailing comma without a comment is an error in a plain .json file.
    assert syntax.check_json({"a.json": b'{"a": [1,]}'})["a.json"].line == 1
    assert syntax.check_json({"tsconfig.json": b'{"a": [1,],}', "b.json": b'{"u": "a//b"}'}) == {}


def test_yaml_custom_tags_and_every_document() -> None:
    ok = b"a: !Ref X\nb: !GetAtt [A, B]\nc: !reference [.x, y]\nd: !!python/name:os.system ''\n"
    assert syntax.check_yaml({"ok.yaml": ok}) == {}
    broken = b"a: 1\n---\nb: [1\n---\nc: 3\n"
    assert syntax.check_yaml({"m.yaml": broken})["m.yaml"].line == 4
    assert syntax.check_yaml({"d.yaml": b"when: 2023-02-30\n"}) == {}  # a value, not syntax


def test_python_uses_the_running_interpreter() -> None:
    problems = syntax.check_python({"py2.py": b"print 'hi'\n", "nul.py": b"x = 1\ny = '\0'\n",
                                    "latin.py": b"# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n"})
    assert set(problems) == {"py2.py", "nul.py"}
    assert problems["py2.py"][:2] == (1, 1)
    assert problems["nul.py"].line == 2
