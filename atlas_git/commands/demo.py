"""A guided tour on a throwaway repository, with the offline defaults.

Each step runs the real CLI in a subprocess against a fresh temp repo, so what
the user sees is exactly what they will get in their own repositories. Nothing
reaches the network: steps use ``--offline`` or need no model, and the
provider URL points at a closed loopback port as a second guard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from atlas_git import ui
from atlas_git.adapters import git

_APP = '''"""A tiny inventory module."""


def parse_quantity(text):
    return int(text)


def total(items):
    result = 0
    for item in items:
        result = result + item["qty"] * item["price"]
    return result
'''

_EDIT = '''Here is the fix:

```
inventory.py
<<<<<<< SEARCH
def parse_quantity(text):
    return int(text)
=======
def parse_quantity(text):
    """Parse a quantity; empty input means zero."""
    text = text.strip()
    if not text:
        return 0
    return int(text)
>>>>>>> REPLACE
```
'''

_BAD = '''import pdb


def broken(x):
    pdb.set_trace()
    return x +
'''


def _env(home: Path) -> dict[str, str]:
    env = git.clean_env()
    for key in list(env):
        if key.endswith("_API_KEY") or key in ("ATLAS_BASE_URL", "OPENAI_BASE_URL"):
            env.pop(key)
    env.update({
        "ATLAS_BASE_URL": "http://127.0.0.1:9/api/v1",  # closed port: offline by construction
        "ATLAS_HOME": str(home),
        "GIT_AUTHOR_NAME": "Atlas Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
        "GIT_COMMITTER_NAME": "Atlas Demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    return env


def _step(title: str, args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> int:
    ui.out("")
    ui.out(ui.style(f"$ git atlas {' '.join(args)}", "bold"))
    ui.out(ui.style(f"# {title}", "dim"))
    sys.stdout.flush()
    proc = subprocess.run([sys.executable, "-m", "atlas_git", *args], cwd=cwd, env=env,
                          input=stdin, text=True, check=False)
    return proc.returncode


def _available(command: str) -> bool:
    from atlas_git.registry import COMMANDS, available

    return command in COMMANDS and available(command)


def run_demo(*, keep: bool = False) -> int:
    """Create a temp repo and walk through route, review and apply/proposals."""
    root = Path(tempfile.mkdtemp(prefix="atlas-demo-"))
    repo = root / "repo"
    repo.mkdir()
    env = _env(root / "home")
    failures = 0
    try:
        git.run(["init", "-q", "-b", "main"], cwd=repo, env=env)
        git.run(["config", "user.name", "Atlas Demo"], cwd=repo, env=env)
        git.run(["config", "user.email", "demo@example.com"], cwd=repo, env=env)
        (repo / "inventory.py").write_text(_APP, encoding="utf-8")
        git.run(["add", "."], cwd=repo, env=env)
        git.run(["commit", "-q", "-m", "inventory module"], cwd=repo, env=env)
        ui.out(ui.style(f"atlas-git demo in a throwaway repository: {repo}", "cyan"))
        ui.out("No API key and no network: everything below runs with the offline defaults.")

        for text in ("parse_quantity crashes with ValueError on empty input, fix it",
                     "explain how total() computes the sum",
                     "migrate the whole storage layer from SQLite to Postgres with zero downtime"):
            if _available("route"):
                failures += _step("route a request: intent, tier, model and cost (no model call)",
                                  ["route", "--offline", "--explain", text], repo, env) != 0

        if _available("review"):
            (repo / "broken.py").write_text(_BAD, encoding="utf-8")
            git.run(["add", "broken.py"], cwd=repo, env=env)
            rc = _step("review staged changes like the pre-commit hook does (exit 1 = blocked)",
                       ["review", "--staged", "--offline"], repo, env)
            failures += rc not in (0, 1)
            git.run(["rm", "-q", "--cached", "broken.py"], cwd=repo, env=env)
            (repo / "broken.py").unlink()

        if _available("apply"):
            failures += _step("apply an edit pasted from a chat window: a proposal branch, your "
                              "tree untouched", ["apply", "--no-test", "-"], repo, env, stdin=_EDIT) != 0
        if _available("proposals"):
            failures += _step("list proposals", ["proposals"], repo, env) != 0
        if _available("budget"):
            _step("set a daily budget", ["budget", "set", "daily", "5"], repo, env)
            failures += _step("spend so far against the limits", ["budget"], repo, env) != 0

        ui.out("")
        status = git.run(["status", "--porcelain"], cwd=repo, env=env)[1]
        ui.out("Your working tree after all of this: "
               + ("unchanged (clean)" if not status.strip() else status))
        if keep:
            ui.out(f"Demo repository kept at {repo}")
        else:
            ui.out("Demo repository removed. Run `git atlas demo --keep` to explore it.")
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(run_demo())
