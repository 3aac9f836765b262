"""Does a file parse? One policy for the executor's checks and the review's built-ins.

Each checker takes ``{path: content bytes}`` and returns ``{path: Problem}`` for
the files that do not parse. :func:`language` picks the checker from the path
(and, for extension-less scripts, the shebang). The tolerance policy:

* **Python** (``.py``, ``.pyi``): ``compile()`` with the *running* interpreter,
  so syntax newer than this Python is an error and removed syntax (Python 2
  ``print``) is one too. Line and column come from the ``SyntaxError``.
  ``SyntaxWarning`` is not an error; a NUL byte is.
* **JSON** (``.json``): strict ``json.loads``. JSONC (comments and trailing
  commas) is accepted in files that are JSONC by convention (``*.jsonc``,
  ``tsconfig*.json``, ``jsconfig*.json``, ``.vscode/*.json``,
  ``devcontainer.json``, ``.eslintrc.json``, ``.babelrc.json``, ``tslint.json``,
  ``deno.json``) and in any ``.json`` that contains a ``//`` or ``/* */``
  comment (a comment is never an accident; a stray trailing comma is). Errors
  in JSONC are reported at their real line: comments are blanked, not removed.
  An empty file is not a finding.
* **YAML** (``.yaml``, ``.yml``): safe-load every document of the stream.
  Custom tags (CloudFormation ``!Ref``/``!GetAtt``, GitLab ``!reference``) are
  accepted as plain values. Templated YAML (``{{`` or ``{%``: Helm, Jinja) is
  skipped: it is not YAML until rendered. Only parser errors with a position
  count; a value PyYAML cannot convert (``2023-02-30``) is not a syntax error.
* **TOML** (``.toml``): ``tomllib``.
* **SQL** (``.sql``): statement completeness only (``sqlite3.complete_statement``):
  a real schema may use another dialect or reference tables we lack.
* **Shell** (``.sh``, ``.bash``, or a ``sh``/``bash`` shebang): ``bash -n``, a few
  processes at a time. **JavaScript** (``.js``, ``.mjs``, ``.cjs``): ONE ``node``
  process for all files, CommonJS as a function body (top-level ``return`` is
  legal), ES modules as modules. Neither runs the code. Without the tool the
  files are not checked (see :func:`tool_missing`).

Content that cannot be decoded as UTF-8 is not a syntax finding (encoding is
a caller's policy), nor is input too deep or too large for the parser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any, NamedTuple


class Problem(NamedTuple):
    """Where a file stops parsing: 1-based line, column when known, and why."""

    line: int
    column: int | None
    message: str


SyntaxErrors = dict[str, Problem]

_SHELL_SHEBANG = re.compile(rb"^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:bash|sh|dash|ksh)\b")
_JSONC_NAMES = re.compile(
    r"(^|/)(tsconfig[^/]*|jsconfig[^/]*|devcontainer|\.devcontainer|\.eslintrc|\.babelrc|tslint|deno)"
    r"\.json$|(^|/)\.vscode/[^/]*\.json$|\.jsonc$", re.IGNORECASE)
_TEMPLATE_MARKERS = ("{{", "{%")
_TOOLS = {"js": "node", "shell": "bash"}


def language(path: str, first_line: bytes = b"") -> str | None:
    """The checker for ``path``: python, js, shell, json, yaml, toml, sql or None."""
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    by_ext = {"py": "python", "pyi": "python", "js": "js", "mjs": "js", "cjs": "js", "sh": "shell",
              "bash": "shell", "json": "json", "jsonc": "json", "yaml": "yaml", "yml": "yaml",
              "toml": "toml", "sql": "sql"}
    if ext in by_ext:
        return by_ext[ext]
    if not ext and _SHELL_SHEBANG.match(first_line):
        return "shell"
    return None


def tool_missing(lang: str) -> str | None:
    """The program ``lang`` needs when it is not installed (its files go unchecked)."""
    tool = _TOOLS.get(lang)
    return tool if tool is not None and shutil.which(tool) is None else None


def _texts(files: Mapping[str, bytes]) -> Iterator[tuple[str, str]]:
    """``(path, text)`` of the files that decode as UTF-8; the others are not a finding."""
    for path, data in files.items():
        try:
            yield path, data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue


def check_python(files: Mapping[str, bytes]) -> SyntaxErrors:
    import warnings

    errors: SyntaxErrors = {}
    for path, data in files.items():
        if b"\0" in data:  # Python 3.11 raises ValueError, 3.12 SyntaxError: one message
            errors[path] = Problem(data.count(b"\n", 0, data.index(b"\0")) + 1, None,
                                   "Python syntax error: source contains a NUL byte")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning noise is not an error
                compile(data, path, "exec", dont_inherit=True)  # bytes: honours coding cookies
        except SyntaxError as exc:
            msg = str(exc.msg or "invalid syntax")
            if "coding" in msg.lower() or "utf-8" in msg.lower():
                continue  # undecodable source: not a syntax finding
            errors[path] = Problem(int(exc.lineno or 1), exc.offset or None, f"Python syntax error: {msg}")
        except (ValueError, MemoryError, RecursionError):
            continue  # pathological input
    return errors


# Strings are kept (a "//" inside one is text), comments are blanked to spaces
# (newlines kept, so line numbers stay true), and a comma before a closing
# bracket, comments allowed in between, becomes a space.
_COMMENT = r"//[^\n]*|/\*[\s\S]*?\*/"
_JSONC_TOKEN = re.compile(rf'"(?:\\.|[^"\\])*"|{_COMMENT}|,(?=(?:\s|{_COMMENT})*[}}\]])')


def _strip_jsonc(text: str) -> tuple[str, bool]:
    """``text`` as plain JSON at the same positions, and whether it had a comment."""
    had_comment = False

    def blank(m: re.Match[str]) -> str:
        nonlocal had_comment
        token = m.group(0)
        if token.startswith('"'):
            return token
        had_comment = had_comment or token.startswith("/")
        return re.sub(r"[^\n]", " ", token)

    return _JSONC_TOKEN.sub(blank, text), had_comment


def check_json(files: Mapping[str, bytes]) -> SyntaxErrors:
    errors: SyntaxErrors = {}
    for path, text in _texts(files):
        if not text.strip():
            continue
        try:
            try:
                json.loads(text)
                continue
            except json.JSONDecodeError as strict:
                error = strict
            plain, had_comment = _strip_jsonc(text)
            if had_comment or _JSONC_NAMES.search(path):
                json.loads(plain)
                continue
        except json.JSONDecodeError as exc:
            error = exc
        except RecursionError:
            continue
        errors[path] = Problem(error.lineno, error.colno, f"invalid JSON: {error.msg}")
    return errors


@cache
def _yaml_loader() -> Any:
    """A safe loader that reads any unknown tag (``!Ref``...) as the plain value it tags."""
    import yaml  # local: only when a YAML file changed

    def untagged(loader: Any, node: Any) -> object:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("TolerantSafeLoader", (base,), {})
    loader.add_constructor(None, untagged)  # the fallback for tags without a constructor
    return loader


def check_yaml(files: Mapping[str, bytes]) -> SyntaxErrors:
    import yaml

    errors: SyntaxErrors = {}
    for path, text in _texts(files):
        if any(m in text for m in _TEMPLATE_MARKERS):
            continue  # Helm/Jinja templates are not YAML until rendered
        try:
            for _ in yaml.load_all(text, Loader=_yaml_loader()):  # a SafeLoader subclass
                pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, None)
            errors[path] = Problem(line, col, f"invalid YAML: {exc.problem or exc.context or 'syntax error'}")
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            continue  # parsed, but a value PyYAML cannot convert: not a syntax error
    return errors


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def check_toml(files: Mapping[str, bytes]) -> SyntaxErrors:
    import tomllib

    errors: SyntaxErrors = {}
    for path, text in _texts(files):
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_AT.search(str(exc))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (text.count("\n") + 1, None)
            reason = re.split(r"\((?:at line|at end)", str(exc))[0].strip()
            errors[path] = Problem(line, col, f"invalid TOML: {reason}")
    return errors


def check_sql(files: Mapping[str, bytes]) -> SyntaxErrors:
    import sqlite3

    errors: SyntaxErrors = {}
    for path, text in _texts(files):
        # Only statement completeness: executing would report tables we lack.
        stripped = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
        if stripped.strip() and not sqlite3.complete_statement(stripped):
            errors[path] = Problem(len(text.splitlines()) or 1, None,
                                   "incomplete SQL statement (missing ';' or unbalanced quotes)")
    return errors


_BASH_LINE = re.compile(r"line (\d+): (.*)")


def check_shell(files: Mapping[str, bytes], *, timeout: float = 10.0) -> SyntaxErrors:
    import subprocess

    bash = shutil.which("bash")
    if bash is None or not files:
        return {}
    errors: SyntaxErrors = {}
    items = list(files.items())
    for start in range(0, len(items), 8):  # a few processes at a time
        procs = []
        for path, data in items[start:start + 8]:
            proc = subprocess.Popen([bash, "-n", "/dev/stdin"], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_tool_env())
            procs.append((path, data, proc))
        for path, data, proc in procs:
            try:
                _, err = proc.communicate(data, timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                continue
            if proc.returncode != 0:
                m = _BASH_LINE.search(err.decode("utf-8", "replace"))
                if m:
                    errors[path] = Problem(int(m.group(1)), None, f"shell syntax error: {m.group(2).strip()}")
    return errors


# One node process checks every file: CommonJS as a function body (top-level
# `return` is legal there), ES modules with vm.SourceTextModule; a failing
# module is re-checked with `node --check` on a temp copy to learn its line.
_NODE_SCRIPT = r"""
const vm = require('vm'), fs = require('fs'), os = require('os'), path = require('path');
const cp = require('child_process');
const lineOf = (s) => { const m = /:(\d+)\s*$/.exec(String(s).split('\n')[0]); return m ? +m[1] : 0; };
let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => data += c).on('end', () => {
  const out = {};
  for (const f of JSON.parse(data)) {
    const src = f.src.replace(/^#!/, '//');
    const esm = f.path.endsWith('.mjs') || (!f.path.endsWith('.cjs') && /^\s*(import|export)\b/m.test(src));
    try {
      if (esm) new vm.SourceTextModule(src, {identifier: f.path});
      else vm.compileFunction(src, [], {filename: f.path});
    } catch (e) {
      if (!(e instanceof SyntaxError)) continue;
      let line = lineOf(e.stack);
      if (esm) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atlas-js-'));
        const tmp = path.join(dir, 'check.mjs');
        fs.writeFileSync(tmp, src);
        const r = cp.spawnSync(process.execPath, ['--check', tmp], {encoding: 'utf8'});
        const m = /check\.mjs:(\d+)/.exec(r.stderr || '');
        line = m ? +m[1] : 1;
        fs.rmSync(dir, {recursive: true, force: true});
      }
      out[f.path] = [line || 1, e.message];
    }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def check_js(files: Mapping[str, bytes], *, timeout: float = 20.0) -> SyntaxErrors:
    import subprocess

    node = shutil.which("node")
    if node is None or not files:
        return {}  # no node: JavaScript is simply not checked
    payload = [{"path": path, "src": text} for path, text in _texts(files)]
    if not payload:
        return {}
    try:
        proc = subprocess.run(
            [node, "--experimental-vm-modules", "--no-warnings", "-e", _NODE_SCRIPT],
            input=json.dumps(payload).encode(), capture_output=True, timeout=timeout, env=_tool_env(),
        )
        result = json.loads(proc.stdout or b"{}")
    except (subprocess.TimeoutExpired, OSError, ValueError):
        return {}
    return {p: Problem(int(v[0]), None, f"JavaScript syntax error: {v[1]}") for p, v in result.items()}


def _tool_env() -> dict[str, str]:
    # Checkers get a minimal, predictable environment (no NODE_OPTIONS surprises).
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.setdefault("LANG", "C.UTF-8")
    return env


CHECKERS: dict[str, Callable[[Mapping[str, bytes]], SyntaxErrors]] = {
    "python": check_python,
    "js": check_js,
    "shell": check_shell,
    "json": check_json,
    "yaml": check_yaml,
    "toml": check_toml,
    "sql": check_sql,
}
_EXTERNAL = ("js", "shell")


def check_all(by_language: Mapping[str, Mapping[str, bytes]]) -> SyntaxErrors:
    """Run each language's checker on its files.

    The checkers that wait on another process (node, bash) run in threads while
    the in-process parsers work, so their start-up time overlaps.
    """
    import threading

    errors: SyntaxErrors = {}
    threads = []
    for lang in _EXTERNAL:
        files = by_language.get(lang)
        if files:
            def work(checker: Callable[[Mapping[str, bytes]], SyntaxErrors] = CHECKERS[lang],
                     group: Mapping[str, bytes] = files) -> None:
                errors.update(checker(group))  # dict.update is atomic under the GIL

            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            threads.append(thread)
    for lang, files in by_language.items():
        if files and lang in CHECKERS and lang not in _EXTERNAL:
            errors.update(CHECKERS[lang](files))
    for thread in threads:
        thread.join()
    return errors
