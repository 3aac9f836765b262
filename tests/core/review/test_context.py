"""What the LLM reviewer is shown: widening, skip globs, chunking, the routing description."""

from __future__ import annotations

import pytest

from atlas_git.core.review import context
from atlas_git.core.review.diff import FileDiff, Hunk
from atlas_git.core.review.llm import describe

JS = """import x from 'y';

function outer(a) {
  if (a) {
    return 1;
  }
  return 2;
}

function other() {
  return 3;
}
"""

PY = """import os


class A:
    def f(self):
        x = 1
        return x

    def g(self):
        return 2
"""


def test_python_widens_to_the_innermost_function() -> None:
    assert context.widen("m.py", PY.split("\n"), [6]) == [(5, 7)]


def test_other_languages_use_indentation_blocks() -> None:
    lines = JS.split("\n")
    assert context.widen("m.js", lines, [5]) == [(3, 8)]
    assert context.widen("m.js", lines, [11]) == [(10, 12)]


def test_huge_functions_fall_back_to_a_window() -> None:
    body = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(400))
    (lo, hi), = context.widen("b.py", body.split("\n"), [200])
    assert hi - lo == 2 * context.WINDOW


def test_render_numbers_added_lines_and_shows_removed_ones() -> None:
    f = FileDiff("m.py", "m.py", "M", "100644", "100644", "a", "b",
                 hunks=[Hunk(6, 1, 6, 1, ["-        x = 0", "+        x = 1"])], added=[6],
                 added_text={6: "        x = 1"})
    text = context.render(f, PY).text
    assert "     5      def f(self):" in text
    assert "      -         x = 0\n     6+         x = 1" in text
    assert "def g" not in text


@pytest.mark.parametrize(("path", "skipped"), [
    ("poetry.lock", True), ("web/package-lock.json", True), ("vendor/a/b.py", True),
    ("src/vendor/x.go", True), ("app.min.js", True), ("proto/x_pb2.py", True),
    ("node_modules/p/i.js", True), ("src/app.py", False), ("vendored.py", False),
])
def test_skip_globs(path: str, skipped: bool) -> None:
    from atlas_git.config import load_config

    globs = load_config(None).get("review.skip_globs")
    assert context.skipped(path, globs) is skipped


def test_chunking_packs_and_cuts() -> None:
    sections = [context.Section(f"f{i}", "x" * 700, 200) for i in range(5)]
    chunks, notes = context.chunk(sections, 450)
    assert [c.paths for c in chunks] == [["f0", "f1"], ["f2", "f3"], ["f4"]]
    chunks, notes = context.chunk([context.Section("big", "line\n" * 1000, 2000)], 500)
    assert len(chunks) == 1 and chunks[0].tokens <= 500
    assert notes == ["big: excerpt cut to fit the model's context"]


def test_describe_states_size_and_complexity() -> None:
    def fd(path: str, lines: list[str]) -> FileDiff:
        return FileDiff(path, path, "M", "100644", "100644", "a", "b",
                        added=list(range(1, len(lines) + 1)), added_text=dict(enumerate(lines, 1)))

    assert describe([fd("a.py", ["x = 1"])]) == ("review a small change", 1)
    text, _ = describe([fd(f"m{i}.py", ["lock = threading.Lock()"] * 10) for i in range(4)])
    assert text == "review a change touching 4 files with concurrency"
    assert "security-sensitive" in describe([fd("a.py", ["cur.execute(q % user)"])])[0]
