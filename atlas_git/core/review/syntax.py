"""Syntax checks for changed files: Python, JavaScript, shell, JSON, YAML, TOML.

Each checker takes ``{path: content bytes}`` and returns ``{path: (line, message)}``
for files that do not parse. Parsers run in-process where Python has one;
JavaScript goes through ONE ``node`` process for all files and shell through
``bash -n`` (a few in parallel). Files that cannot be decoded are not a syntax
finding (encoding is not this check's business), and templated YAML/JSON with
comments are recognised rather than flagged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Mapping

SyntaxErrors = dict[str, tuple[int, str]]

_SHELL_SHEBANG = re.compile(rb"^#!\s*(?:/usr)?/bin/(?:env\s+)?(?:bash|sh|dash|ksh)\b")
_JSONC_NAMES = re.compile(r"(^|/)(tsconfig[^/]*|jsconfig[^/]*|devcontainer|\.devcontainer)\.json$"
                          r"|(^|/)\.vscode/[^/]*\.json$|\.jsonc$")
_TEMPLATE_MARKERS = (b"{{", b"{%")


def language(path: str, first_line: bytes = b"") -> str | None:
    """The checker for ``path``: python, js, shell, json, yaml, toml or None."""
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in ("py", "pyi"):
        return "python"
    if ext in ("js", "mjs", "cjs"):
        return "js"
    if ext in ("sh", "bash"):
        return "shell"
    if ext == "json" and not _JSONC_NAMES.search(path):
        return "json"
    if ext in ("yaml", "yml"):
        return "yaml"
    if ext == "toml":
        return "toml"
    if not ext and _SHELL_SHEBANG.match(first_line):
        return "shell"
    return None


def check_python(files: Mapping[str, bytes]) -> SyntaxErrors:
    errors: SyntaxErrors = {}
    for path, data in files.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning noise is not an error
                compile(data, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            msg = str(exc.msg or "invalid syntax")
            if "coding" in msg.lower() or "utf-8" in msg.lower():
                continue  # undecodable source: not a syntax finding
            errors[path] = (int(exc.lineno or 1), f"Python syntax error: {msg}")
        except (ValueError, MemoryError, RecursionError):
            continue  # NUL bytes or pathological input: the binary/size checks cover it
    return errors


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


_JSONC_STRIP = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*[\s\S]*?\*/', re.MULTILINE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _jsonc_ok(text: str) -> bool:
    """True for JSON with comments (JSONC): it parses once comments are blanked."""
    had_comment = False

    def keep(m: re.Match[str]) -> str:
        nonlocal had_comment
        token = m.group(0)
        if token.startswith('"'):
            return token
        had_comment = True
        return re.sub(r"[^\n]", " ", token)

    stripped = _JSONC_STRIP.sub(keep, text)
    if not had_comment:
        return False  # a plain .json file with a syntax error (trailing commas included)
    try:
        json.loads(_TRAILING_COMMA.sub(r" \1", stripped))
    except ValueError:
        return False
    return True


def check_json(files: Mapping[str, bytes]) -> SyntaxErrors:
    errors: SyntaxErrors = {}
    for path, data in files.items():
        text = _decode(data)
        if text is None or not text.strip():
            continue
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            if _jsonc_ok(text):
                continue  # JSON with comments (JSONC) is a different, valid format
            errors[path] = (exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            continue
    return errors


def check_yaml(files: Mapping[str, bytes]) -> SyntaxErrors:
    errors: SyntaxErrors = {}
    import yaml  # local: only when a YAML file changed

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path, data in files.items():
        text = _decode(data)
        if text is None or any(m in data for m in _TEMPLATE_MARKERS):
            continue  # Helm/Jinja templates are not YAML until rendered
        try:
            # compose (not construct): syntax only, so custom tags (!Ref,
            # !reference) are fine; every document of a multi-document stream.
            for _ in yaml.compose_all(text, Loader=loader):
                pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            errors[path] = (line, f"invalid YAML: {exc.problem or exc.context or 'syntax error'}")
        except (yaml.YAMLError, RecursionError):
            continue
    return errors


_TOML_AT = re.compile(r"\(at line (\d+)")


def check_toml(files: Mapping[str, bytes]) -> SyntaxErrors:
    import tomllib

    errors: SyntaxErrors = {}
    for path, data in files.items():
        text = _decode(data)
        if text is None:
            continue
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_AT.search(str(exc))
            line = int(m.group(1)) if m else text.count("\n") + 1
            errors[path] = (line, f"invalid TOML: {_TOML_AT.split(str(exc))[0].strip()}")
    return errors


_BASH_LINE = re.compile(r"line (\d+): (.*)")


def check_shell(files: Mapping[str, bytes], *, timeout: float = 10.0) -> SyntaxErrors:
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
                    errors[path] = (int(m.group(1)), f"shell syntax error: {m.group(2).strip()}")
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
    node = shutil.which("node")
    if node is None or not files:
        return {}  # no node: JavaScript is simply not checked
    payload = []
    for path, data in files.items():
        text = _decode(data)
        if text is not None:
            payload.append({"path": path, "src": text})
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
    return {p: (int(v[0]), f"JavaScript syntax error: {v[1]}") for p, v in result.items()}


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
}


def check_all(by_language: Mapping[str, Mapping[str, bytes]]) -> SyntaxErrors:
    """Run each language's checker on its files.

    The checkers that wait on another process (node, bash) run in threads while
    the in-process parsers work, so their start-up time overlaps.
    """
    import threading

    errors: SyntaxErrors = {}
    threads = []
    for lang in ("js", "shell"):
        files = by_language.get(lang)
        if files:
            def work(checker: Callable[[Mapping[str, bytes]], SyntaxErrors] = CHECKERS[lang],
                     group: Mapping[str, bytes] = files) -> None:
                errors.update(checker(group))  # dict.update is atomic under the GIL

            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            threads.append(thread)
    for lang, files in by_language.items():
        if files and lang in CHECKERS and lang not in ("js", "shell"):
            errors.update(CHECKERS[lang](files))
    for thread in threads:
        thread.join()
    return errors
