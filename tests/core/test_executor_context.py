"""Context selection: found files, ignore rules, binaries, secrets, trimming."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_git.config import load_config
from atlas_git.core.executor.context import build_context, render, request_terms, trim
from atlas_git.errors import AtlasError
from tests.conftest import git


@pytest.fixture
def project(repo: Path) -> Path:
    (repo / "src").mkdir()
    (repo / "src" / "parser.py").write_text("def parse_header(line):\n    return line.split(':')\n")
    (repo / "src" / "render.py").write_text("def draw():\n    pass\n")
    (repo / "vendor").mkdir()
    (repo / "vendor" / "lib.py").write_text("def parse_header(x):\n    return x\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0parse_header")
    (repo / ".env").write_text("TOKEN=parse_header\n")
    (repo / ".atlasignore").write_text("vendor/\n")
    git(repo, "add", "-f", ".")
    git(repo, "commit", "-qm", "project")
    return repo


def _ctx(repo: Path, request: str, named: list[str] | None = None, **cfg: object):  # type: ignore[no-untyped-def]
    config = load_config(repo, overrides=cfg or None)
    base = git(repo, "rev-parse", "HEAD").strip()
    return build_context(repo, base, request, named or [], config=config, tier="gold")


def test_files_are_found_from_identifiers_and_ignores_are_respected(project: Path) -> None:
    ctx = _ctx(project, "parse_header crashes on lines without a colon")
    assert ctx.paths[0] == "src/parser.py"
    skipped = dict(ctx.skipped)
    assert skipped.get("vendor/lib.py", "").startswith("ignored")
    assert "secret" in skipped.get(".env", "")
    assert skipped.get("logo.png", "").startswith("binary") or "logo.png" not in ctx.paths
    assert "src/render.py" not in ctx.paths


def test_path_words_find_files(project: Path) -> None:
    assert _ctx(project, "fix the bug in render.py").paths == ["src/render.py"]


def test_named_paths_dirs_and_new_files(project: Path) -> None:
    ctx = _ctx(project, "x", ["src", "src/new_module.py"])
    assert ctx.paths == ["src/parser.py", "src/render.py", "src/new_module.py"]
    assert ctx.files[-1].new and "does not exist yet" in render(ctx)


def test_secrets_are_redacted_or_refused(repo: Path) -> None:
    key = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    (repo / "conf.py").write_text(f'GITHUB_TOKEN = "{key}"\nDEBUG = True\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "conf")
    ctx = _ctx(repo, "x", ["conf.py"])
    assert key not in render(ctx) and ctx.redactions == 1 and "DEBUG = True" in render(ctx)
    with pytest.raises(AtlasError, match="secret"):
        _ctx(repo, "x", ["conf.py"], secrets={"mode": "refuse"})


def test_large_files_are_trimmed_around_relevant_lines_with_markers() -> None:
    lines = [f"x_{i} = {i}\n" for i in range(3000)]
    lines[1500] = "def target_function():\n"
    text, trimmed = trim("".join(lines), ["target_function"], max_tokens=600)
    assert trimmed and "def target_function" in text
    assert "[atlas: lines 1-" in text and "omitted; do not edit them]" in text
    assert len(text) < 600 * 4 + 500


def test_token_budget_limits_the_context(repo: Path) -> None:
    for i in range(6):
        (repo / f"mod{i}.py").write_text(f"def shared_helper_{i}():\n" + "    pass\n" * 4000)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "big")
    ctx = _ctx(repo, "x", [f"mod{i}.py" for i in range(6)], tiers={"gold": {"context_tokens": 4000}})
    assert ctx.tokens <= 4000
    assert any(f.trimmed for f in ctx.files) or ctx.skipped


def test_request_terms_prefer_code_words() -> None:
    paths, idents, quoted = request_terms("make `load_config` handle src/app.py and the ValueError 'bad key'")
    assert "src/app.py" in paths and idents[0] == "load_config" and "bad key" in quoted
