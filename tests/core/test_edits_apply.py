"""apply_edits: content matching levels, refusals, double application, newline styles."""

from __future__ import annotations

from atlas_git.core.edits import ApplyResult, FileEdit, Hunk, apply_edits, parse_edits

APP = """\
import os


def add(a, b):
    return a + b


def sub(a, b):
    return a - b
"""


def run(text: str, files: dict[str, str]) -> ApplyResult:
    return apply_edits(parse_edits(text), files.get)


def diff(path: str, body: str) -> str:
    return f"--- a/{path}\n+++ b/{path}\n{body}"


def test_exact_match_ignores_wrong_line_numbers() -> None:
    res = run(diff("app.py", "@@ -40,9 +77,1 @@\n def sub(a, b):\n-    return a - b\n+    return b - a\n"),
              {"app.py": APP})
    assert res.status == "applied" and res.hunks_applied == 1 and res.errors == []
    assert res.files["app.py"] == APP.replace("return a - b", "return b - a")


def test_trailing_whitespace_and_tabs_vs_spaces_tolerated() -> None:
    tabbed = "def f():\n\tif x:  \n\t\treturn 1\n"
    res = run(diff("t.py", "@@ @@\n def f():\n     if x:\n-        return 1\n+        return 2\n"),
              {"t.py": tabbed})
    assert res.status == "applied", res.errors
    # Context keeps the file's own bytes; the new line follows the file's tabs.
    assert res.files["t.py"] == "def f():\n\tif x:  \n\t\treturn 2\n"


def test_relative_indentation_reindents_the_replacement() -> None:
    nested = "class A:\n    def m(self):\n        x = 1\n        return x\n"
    res = run(diff("a.py", "@@ @@\n def m(self):\n-    x = 1\n+    x = 2\n+    y = x\n     return x\n"),
              {"a.py": nested})
    assert res.status == "applied", res.errors
    assert res.files["a.py"] == "class A:\n    def m(self):\n        x = 2\n        y = x\n        return x\n"


def test_less_context_drops_wrong_edge_lines_but_keeps_the_change_anchored() -> None:
    text = diff("app.py", "@@ @@\n # a comment the model imagined\n def sub(a, b):\n-    return a - b\n"
                          "+    return b - a\n")
    res = run(text, {"app.py": APP})
    assert res.status == "applied", res.errors
    assert "return b - a" in res.files["app.py"]


def test_ambiguous_hunk_is_refused_naming_the_lines() -> None:
    twice = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"
    res = run(diff("d.py", "@@ @@\n-    return 1\n+    return 2\n"), {"d.py": twice})
    assert res.status == "refused" and res.files == {} and res.hunks_failed == 1
    assert res.errors == ["d.py: hunk 1 is ambiguous: it matches 2 places (lines 2, 6); "
                          "include more surrounding lines to pick one"]


def test_hunk_order_settles_ambiguity_only_when_line_numbers_ascend() -> None:
    twice = "x\ny\nx\ny\n"
    # Both hunks match both places; only "first hunk first" fits. The numbers are
    # wrong, but they ascend, so the order is the model's file order.
    numbered = diff("o.txt", "@@ -10,2 +10,2 @@\n x\n-y\n+Y1\n@@ -20,2 +20,2 @@\n x\n-y\n+Y2\n")
    res = run(numbered, {"o.txt": twice})
    assert res.status == "applied", res.errors
    assert res.files["o.txt"] == "x\nY1\nx\nY2\n"
    # Without numbers the order may be "logical" rather than file order: refused.
    bare = numbered.replace("@@ -10,2 +10,2 @@", "@@ ... @@").replace("@@ -20,2 +20,2 @@", "@@ ... @@")
    res = run(bare, {"o.txt": twice})
    assert res.status == "refused" and len(res.errors) == 2 and "ambiguous" in res.errors[0]


def test_proven_line_numbers_break_a_tie_but_unproven_ones_do_not() -> None:
    content = "keep\nx = 1\n\nkeep\nx = 1\nend\nlast\n"
    good = diff("n.txt", "@@ -4,2 +4,2 @@\n keep\n-x = 1\n+x = 2\n@@ -6,2 +6,2 @@\n end\n-last\n+LAST\n")
    res = run(good, {"n.txt": content})
    assert res.status == "applied", res.errors
    assert res.files["n.txt"] == "keep\nx = 1\n\nkeep\nx = 2\nend\nLAST\n"
    # Hunk 2's number is off, so hunk 1's number proves nothing: refused.
    wrong = good.replace("@@ -6,2 +6,2 @@", "@@ -9,2 +9,2 @@")
    res = run(wrong, {"n.txt": content})
    assert res.status == "partial"
    assert res.errors == ["n.txt: hunk 1 (line 4) is ambiguous: it matches 2 places (lines 1, 4); "
                          "include more surrounding lines to pick one"]


def test_short_edge_context_anchors_a_hunk_at_the_start_when_the_diff_is_regular() -> None:
    doc = '"""\nDoc.\n"""\nx = 1\n'
    other = "a\nb\nc\n"
    regular = diff("o.txt", "@@ -40 +40 @@\n a\n-b\n+B\n c\n")
    start = diff("s.py", '@@ -30 +30,2 @@\n+# header\n """\n')
    res = run(regular + start, {"s.py": doc, "o.txt": other})
    assert res.status == "applied", res.errors
    assert res.files["s.py"] == "# header\n" + doc
    # Without a regular hunk proving the context size, the short edge proves nothing.
    res = run(start, {"s.py": doc})
    assert res.status == "refused" and "ambiguous" in res.errors[0]


def test_double_application_is_detected() -> None:
    text = diff("app.py", "@@ @@\n def sub(a, b):\n-    return a - b\n+    return b - a\n")
    first = run(text, {"app.py": APP})
    second = run(text, {"app.py": first.files["app.py"] or ""})
    assert second.status == "applied" and second.already_applied == 1
    assert second.hunks_applied == 0 and second.files == {}


def test_pure_insertion_is_not_applied_twice() -> None:
    text = diff("app.py", "@@ @@\n import os\n+import sys\n")
    first = run(text, {"app.py": APP})
    assert first.files["app.py"] == APP.replace("import os\n", "import os\nimport sys\n")
    second = run(text, {"app.py": first.files["app.py"] or ""})
    assert second.already_applied == 1 and second.files == {}


def test_partial_application_is_reported_as_partial() -> None:
    text = diff("app.py", "@@ @@\n def add(a, b):\n-    return a + b\n+    return b + a\n"
                          "@@ @@\n def mul(a, b):\n-    return a * b\n+    return b * a\n")
    res = run(text, {"app.py": APP})
    assert res.status == "partial" and res.hunks_applied == 1 and res.hunks_failed == 1
    assert res.errors[0].startswith("app.py: hunk 2 was not found")
    assert "return b + a" in (res.files["app.py"] or "")


def test_missing_file_and_binary_file() -> None:
    res = run(diff("nope.py", "@@ @@\n-x\n+y\n"), {})
    assert res.status == "refused" and "nope.py: file not found" in res.errors[0]
    res = run(diff("img.bin", "@@ @@\n-x\n+y\n"), {"img.bin": "x\0y\n"})
    assert res.status == "refused" and "binary" in res.errors[0]


def test_crlf_file_keeps_crlf_and_untouched_bytes() -> None:
    crlf = "one\r\ntwo  \r\nthree\r\n"
    res = run(diff("w.txt", "@@ @@\n one\n-two\n+2\n three\n"), {"w.txt": crlf})
    assert res.files["w.txt"] == "one\r\n2\r\nthree\r\n"


def test_no_final_newline_is_preserved_unless_the_diff_says_otherwise() -> None:
    res = run(diff("f.txt", "@@ @@\n a\n-b\n+B\n"), {"f.txt": "a\nb"})
    assert res.files["f.txt"] == "a\nB"
    marked = diff("f.txt", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+B\n")
    assert run(marked, {"f.txt": "a\nb"}).files["f.txt"] == "a\nB\n"


def test_search_replace_blocks_apply_in_sequence_and_append() -> None:
    text = (
        "app.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return add_impl(a, b)\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\n    return add_impl(a, b)\n=======\n    return int(add_impl(a, b))\n"
        ">>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\n=======\n\n\ndef mul(a, b):\n    return a * b\n>>>>>>> REPLACE\n"
    )
    res = run(text, {"app.py": APP})
    assert res.status == "applied", res.errors
    assert res.files["app.py"] == APP.replace("return a + b", "return int(add_impl(a, b))") + (
        "\n\ndef mul(a, b):\n    return a * b\n")
    # Re-sent: the chained first block's text is gone, the one-line second block
    # proves too little to call it applied, the appended block is at the end.
    again = run(text, {"app.py": res.files["app.py"] or ""})
    assert again.already_applied == 1 and again.hunks_applied == 0 and again.files == {}
    assert "applied before?" in again.errors[1]


def test_create_delete_and_whole_file_edits() -> None:
    edits = [
        FileEdit("new.py", "create", [], "x = 1\n"),
        FileEdit("old.py", "delete"),
        FileEdit("app.py", "replace_whole", [], "print('hi')\n"),
    ]
    res = apply_edits(edits, {"old.py": "x\n", "app.py": "print('yo')\r\n"}.get)
    assert res.status == "applied" and res.hunks_applied == 3
    assert res.files == {"new.py": "x = 1\n", "old.py": None, "app.py": "print('hi')\r\n"}
    again = apply_edits(edits, {"new.py": "x = 1\n", "app.py": "print('hi')\r\n"}.get)
    assert again.already_applied == 3 and again.files == {}
    clash = apply_edits([edits[0]], {"new.py": "other\n"}.get)
    assert clash.status == "refused" and "already exists" in clash.errors[0]


def test_hunk_without_context_is_refused_in_a_non_empty_file() -> None:
    res = apply_edits([FileEdit("a.txt", "patch", [Hunk([], ["new"], 3)])], {"a.txt": "x\n"}.get)
    assert res.status == "refused" and "no context" in res.errors[0]


def test_rename_moves_the_patched_content() -> None:
    text = ("diff --git a/old.py b/new.py\nrename from old.py\nrename to new.py\n"
            "--- a/old.py\n+++ b/new.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    res = run(text, {"old.py": "x = 1\n"})
    assert res.files == {"new.py": "x = 2\n", "old.py": None}


def test_block_indented_with_an_extra_prefix_keeps_the_files_tabs() -> None:
    cfg = "[meta]\nurls =\n\tDocs = a\n\tCode = b\nname = x\n"
    text = diff("setup.cfg", "@@ @@\n     urls =\n     \tDocs = a\n+    \tChat = c\n     \tCode = b\n")
    res = run(text, {"setup.cfg": cfg})
    assert res.status == "applied", res.errors
    assert res.files["setup.cfg"] == "[meta]\nurls =\n\tDocs = a\n\tChat = c\n\tCode = b\nname = x\n"


def test_search_replace_with_rst_underlines_is_read_the_one_way_that_matches() -> None:
    doc = "Intro\n=======\n\nold text\n"
    text = "doc.rst\n<<<<<<< SEARCH\nold text\n=======\nnew text\n=======\n>>>>>>> REPLACE\n"
    # Two readings: "old text" -> "new text / =======", or
    # "old text / ======= / new text" -> nothing; only the first is in the file.
    res = run(text, {"doc.rst": doc})
    assert res.status == "applied", res.errors
    assert res.files["doc.rst"] == "Intro\n=======\n\nnew text\n=======\n"
    text = "doc.rst\n<<<<<<< SEARCH\nIntro\n=======\nx\n=======\ny\n>>>>>>> REPLACE\n"
    res = run(text, {"doc.rst": "Intro\n=======\nx\n"})
    assert res.status == "refused" and "'=======' lines" in res.errors[0]


def test_zero_context_insertion_is_refused_not_guessed() -> None:
    res = run(diff("app.py", "@@ -1,0 +2 @@\n+import sys\n"), {"app.py": APP})
    assert res.status == "refused" and "no context or removed lines" in res.errors[0]


def test_one_line_result_elsewhere_is_not_taken_as_already_applied() -> None:
    content = "x = 2\ny = 3\n"
    res = run(diff("c.py", "@@ @@\n-x = 1\n+x = 2\n"), {"c.py": content})
    assert res.status == "refused" and res.already_applied == 0
    assert "applied before?" in res.errors[0]


def test_whole_file_block_that_is_really_a_snippet_is_refused() -> None:
    big = "".join(f"line_{i} = {i}\n" for i in range(60))
    text = "src/big.py\n```python\nline_3 = 'three'\n```\n"
    res = run(text, {"src/big.py": big})
    assert res.status == "refused" and "looks like a snippet" in res.errors[0]
    assert run(text.replace("big", "small"), {}).status == "applied"  # a new file is fine


def test_context_lines_missing_their_leading_space_inside_a_fence() -> None:
    text = ("```diff\n--- a/app.py\n+++ b/app.py\n@@ -4,2 +4,2 @@\ndef add(a, b):\n"
            "-    return a + b\n+    return b + a\n```\n")
    res = run(text, {"app.py": APP})
    assert res.status == "applied", res.errors
    assert "return b + a" in (res.files["app.py"] or "")


def test_prose_right_after_an_unfenced_hunk_is_not_swallowed() -> None:
    text = diff("app.py", "@@ @@\n def sub(a, b):\n-    return a - b\n+    return b - a\nThat's all.\n")
    res = run(text, {"app.py": APP})
    assert res.status == "applied", res.errors


def test_proven_function_headings_break_a_tie() -> None:
    code = ("def f():\n    a = 1\n    return a\n\n\n"
            "def g():\n    x = 0\n    return x\n\n\n"
            "def h():\n    x = 0\n    return x\n")
    text = diff("m.py", "@@ -90,2 +90,2 @@ def f():\n-    a = 1\n+    a = 2\n     return a\n"
                        "@@ -95,2 +95,2 @@ def h():\n-    x = 0\n+    x = 9\n     return x\n")
    res = run(text, {"m.py": code})
    assert res.status == "applied", res.errors
    assert res.files["m.py"] == code.replace("a = 1", "a = 2")[::-1].replace("0 = x", "9 = x", 1)[::-1]
    # A heading the file contradicts proves nothing: the tie stays refused.
    res = run(text.replace("@@ def f():", "@@ def zzz():"), {"m.py": code})
    assert res.status == "partial" and "ambiguous" in res.errors[0]


def test_identical_hunks_for_identical_places_are_applied_without_order() -> None:
    code = "class A(object):\n    pass\n\n\nclass A(object):\n    pass\n"
    text = diff("t.py", "@@ ... @@\n-class A(object):\n+class A:\n     pass\n"
                        "@@ ... @@\n-class A(object):\n+class A:\n     pass\n")
    res = run(text, {"t.py": code})
    assert res.status == "applied" and res.hunks_applied == 2, res.errors
    assert res.files["t.py"] == code.replace("A(object)", "A")
    # One such hunk for two places is still ambiguous.
    single = run(text[: text.index("@@ ... @@", 30)], {"t.py": code})
    assert single.status == "refused" and "ambiguous" in single.errors[0]


def test_a_candidate_on_top_of_another_hunk_is_excluded() -> None:
    code = "a\nb\nc\nb\nd\n"
    # Hunk 2 ("b" alone) matches lines 2 and 4, but line 2 lies inside hunk 1's
    # only place, and hunks of one diff never overlap (in any listed order).
    text = diff("x.txt", "@@ ... @@\n-b\n+B2\n@@ ... @@\n a\n-b\n+B1\n c\n")
    res = run(text, {"x.txt": code})
    assert res.status == "applied", res.errors
    assert res.files["x.txt"] == "a\nB1\nc\nB2\nd\n"


BLANKS = "def f():\n    a = 1\n\n    b = 2\n    return a + b\n\n\ndef g():\n    pass\n"


def test_blank_line_missing_from_the_context_is_tolerated() -> None:
    text = diff("m.py", "@@ @@\n def f():\n     a = 1\n     b = 2\n-    return a + b\n+    return a * b\n")
    res = run(text, {"m.py": BLANKS})
    assert res.status == "applied", res.errors
    assert res.files["m.py"] == BLANKS.replace("a + b", "a * b")


def test_replacement_next_to_a_blank_line_the_hunk_omits_stays_in_place() -> None:
    text = diff("m.py", "@@ @@\n def f():\n-    a = 1\n+    a = 10\n     b = 2\n")
    res = run(text, {"m.py": BLANKS})
    assert res.status == "applied", res.errors
    assert res.files["m.py"] == BLANKS.replace("a = 1\n", "a = 10\n")


def test_insertion_beside_a_blank_line_the_hunk_omits_is_refused() -> None:
    # "c = 3" could go before or after the blank line: a guess, so refused.
    text = diff("m.py", "@@ @@\n     a = 1\n+    c = 3\n     b = 2\n")
    res = run(text, {"m.py": BLANKS})
    assert res.status == "refused" and "was not found" in res.errors[0]
