"""parse_edits: every format models send, fenced or in prose, and the malformed ones."""

from __future__ import annotations

import pytest

from atlas_git.core.edits import FileEdit, parse_edits
from atlas_git.core.edits.parse import path_of
from atlas_git.errors import AtlasError

GIT_DIFF = (
    "diff --git a/src/app.py b/src/app.py\n"
    "index 1234567..89abcde 100644\n"
    "--- a/src/app.py\n"
    "+++ b/src/app.py\n"
    "@@ -1,4 +1,4 @@\n"
    " def add(a, b):\n"
    "-    return a + b\n"
    "+    return b + a\n"
    " \n"
    " \n"
)


def only(edits: list[FileEdit]) -> FileEdit:
    assert len(edits) == 1
    return edits[0]


def test_git_diff_strips_prefixes_and_keeps_line_hint() -> None:
    edit = only(parse_edits(GIT_DIFF))
    assert edit.path == "src/app.py"
    assert edit.kind == "patch"
    hunk = edit.hunks[0]
    assert hunk.before == ["def add(a, b):", "    return a + b", "", ""]
    assert hunk.after == ["def add(a, b):", "    return b + a", "", ""]
    assert hunk.header_line == 1


def test_no_prefixes_wrong_counts_and_bare_hunk_headers() -> None:
    text = (
        "--- src/app.py\n+++ src/app.py\n"
        "@@ -10,99 +10,1 @@\n def f():\n-    return 1\n+    return 2\n"
        "@@ ... @@\n def g():\n-    pass\n+    return 3\n"
    )
    edit = only(parse_edits(text))
    assert edit.path == "src/app.py"
    assert [h.before for h in edit.hunks] == [["def f():", "    return 1"], ["def g():", "    pass"]]
    assert [h.after for h in edit.hunks] == [["def f():", "    return 2"], ["def g():", "    return 3"]]
    assert edit.hunks[1].header_line is None


def test_counts_read_exactly_when_right_even_with_lines_that_look_like_headers() -> None:
    # A removed SQL comment "-- x" shows as "--- x"; correct counts keep it in the hunk.
    text = "--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,2 @@\n--- x\n+-- y\n select 1;\n"
    edit = only(parse_edits(text))
    assert edit.hunks[0].before == ["-- x", "select 1;"]
    assert edit.hunks[0].after == ["-- y", "select 1;"]


def test_new_and_deleted_files() -> None:
    text = (
        "diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n"
        "@@ -0,0 +1,2 @@\n+one\n+two\n"
        "diff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-gone\n"
    )
    new, old = parse_edits(text)
    assert (new.path, new.kind, new.new_content) == ("new.txt", "create", "one\ntwo\n")
    assert (old.path, old.kind) == ("old.txt", "delete")


def test_no_newline_markers_set_final_newline_state() -> None:
    text = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
    hunk = only(parse_edits(text)).hunks[0]
    assert hunk.eof_newline is True and hunk.at_eof is True
    text = "--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n"
    assert only(parse_edits(text)).new_content == "x"


def test_fenced_diff_inside_prose_with_stripped_blank_context() -> None:
    text = (
        "Sure, here is the fix.\n\n```diff\n--- a/app.py\n+++ b/app.py\n@@ -1,3 +1,3 @@\n"
        " def add(a, b):\n-    return a + b\n+    return b + a\n\n```\n\nThis swaps the operands.\n"
    )
    edit = only(parse_edits(text))
    assert edit.hunks[0].before == ["def add(a, b):", "    return a + b", ""]


def test_rename_diff() -> None:
    text = (
        "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n"
        "--- a/old.py\n+++ b/new.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    )
    edit = only(parse_edits(text))
    assert (edit.path, edit.old_path, edit.kind) == ("new.py", "old.py", "patch")


def test_header_less_hunk_uses_the_path_line_before_it() -> None:
    text = "src/app.py\n```diff\n@@ -3 +3 @@\n-a\n+b\n```\n"
    assert only(parse_edits(text)).path == "src/app.py"


def test_search_replace_blocks_aider_style() -> None:
    text = (
        "I'll change two things.\n\nsrc/app.py\n```python\n<<<<<<< SEARCH\ndef add(a, b):\n"
        "    return a + b\n=======\ndef add(a, b):\n    return b + a\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n```\n\n"
        "**src/new.py**\n<<<<<<< SEARCH\n=======\nprint('hi')\n>>>>>>> REPLACE\n"
    )
    first, second, third = parse_edits(text)
    assert first.path == second.path == "src/app.py"
    assert first.source == "search_replace"
    assert first.hunks[0].before == ["def add(a, b):", "    return a + b"]
    assert second.hunks[0].after == ["X = 2"]
    assert third.path == "src/new.py"
    assert third.hunks[0].before == [] and third.hunks[0].append


def test_whole_file_after_a_path_line_or_in_the_info_string() -> None:
    text = (
        "Here is the new module:\n\n`src/util.py`:\n```python\ndef one():\n    return 1\n```\n\n"
        "And a config:\n\n```toml config/app.toml\n[app]\nname = 'x'\n```\n"
    )
    util, cfg = parse_edits(text)
    assert (util.path, util.kind, util.new_content) == ("src/util.py", "replace_whole",
                                                        "def one():\n    return 1\n")
    assert (cfg.path, cfg.new_content) == ("config/app.toml", "[app]\nname = 'x'\n")


def test_code_fence_without_a_path_is_not_an_edit() -> None:
    with pytest.raises(AtlasError, match="no edits found in the input"):
        parse_edits("Try this:\n\n```python\nprint('hello')\n```\n")


def test_nothing_usable_is_one_clear_error() -> None:
    with pytest.raises(AtlasError, match="no edits found in the input"):
        parse_edits("I could not find the bug, sorry.")


def test_whole_file_that_elides_code_is_refused() -> None:
    text = "src/app.py\n```python\ndef add(a, b):\n    return b + a\n# ... rest of the file unchanged\n```\n"
    with pytest.raises(AtlasError, match="elides code"):
        parse_edits(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("app.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n", "no '=======' divider"),
        ("app.py\n<<<<<<< SEARCH\nx\n=======\ny\n", "no '>>>>>>> REPLACE' end"),
        ("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "names no file"),
        ("@@ -1 +1 @@\n-x\n+y\n", "names no file"),
        ("diff --git a/i.png b/i.png\nBinary files a/i.png and b/i.png differ\n", "binary patch"),
    ],
)
def test_malformed_blocks_are_refused_not_skipped(text: str, message: str) -> None:
    with pytest.raises(AtlasError, match=message):
        parse_edits(text)


def test_crlf_transport_is_normalised() -> None:
    edit = only(parse_edits(GIT_DIFF.replace("\n", "\r\n")))
    assert edit.hunks[0].after[1] == "    return b + a"


def test_diff_of_a_crlf_file_keeps_carriage_returns() -> None:
    text = "--- a/w.txt\n+++ b/w.txt\n@@ -1,2 +1,2 @@\n one\r\n-two\r\n+2\r\n"
    assert only(parse_edits(text)).hunks[0].after == ["one\r", "2\r"]


@pytest.mark.parametrize(
    "line, path",
    [
        ("src/x.py", "src/x.py"),
        ("### `src/x.py`", "src/x.py"),
        ("**File: src/x.py**", "src/x.py"),
        ("### New file: src/x.py", "src/x.py"),
        ("`src/x.py`:", "src/x.py"),
        ("Makefile", "Makefile"),
        ("Here is the fix:", None),
        ("see src/x.py", None),
        ("1.5", None),
    ],
)
def test_path_lines_in_markdown(line: str, path: str | None) -> None:
    assert path_of(line) == path


def test_mostly_crlf_paste_without_a_final_newline_is_treated_as_lf() -> None:
    text = GIT_DIFF.replace("\n", "\r\n").rstrip("\r\n")
    hunk = only(parse_edits(text)).hunks[0]
    assert hunk.after[:2] == ["def add(a, b):", "    return b + a"]


def test_git_quoted_paths_with_octal_utf8() -> None:
    text = ('diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\n'
            '--- "a/caf\\303\\251.txt"\n+++ "b/caf\\303\\251.txt"\n@@ -1 +1 @@\n-x\n+y\n')
    assert only(parse_edits(text)).path == "café.txt"
