"""Fault injection: kill `git atlas apply` / `fix` at random points; the user's state must survive.

Each trial starts the real CLI in a subprocess against a temp repository that
holds staged, unstaged and untracked work plus a stash entry, then SIGKILLs it:
either after a random delay, or at a named step through the documented test
hook ``ATLAS_FAULT_AT=<step>`` (the process kills itself there; see
``atlas_git.core.executor.worktree.fault_point``). After each kill it checks:

1. the user's working tree, index, stash, HEAD and refs (except ``atlas/*``)
   are byte-identical to before;
2. every ``atlas/*`` branch that exists is a complete proposal;
3. the next run (a fresh ``apply``) or ``git atlas gc`` leaves no scratch
   worktree, lock or incomplete branch behind.

    python benchmarks/fault_injection.py --trials 60 --seed 1

Prints trials / violations (and exits 1 on any violation). The ``fix`` trials
talk to the loopback FakeLLM server, so no key and no network are needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atlas_git.testing.fake_llm import FakeLLM, Reply  # noqa: E402

STEPS = ("worktree-added", "files-written", "checks-done", "committed", "branch-created")
EDIT = """app.py
<<<<<<< SEARCH
def add(a, b):
    return a + b
=======
def add(a, b):
    if a is None or b is None:
        raise ValueError("missing operand")
    return a + b
>>>>>>> REPLACE
"""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=True).stdout


def hermetic_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "ATLAS_", "OPENROUTER_", "OPENAI_", "ANTHROPIC_"))}
    env.update({
        "HOME": str(home), "ATLAS_HOME": str(home / ".atlas-home"), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_EDITOR": "false", "GIT_TERMINAL_PROMPT": "0",
        "ATLAS_BASE_URL": "http://127.0.0.1:9/api/v1",
    })
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
    return env


def make_repo(path: Path, env: dict[str, str]) -> None:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main", env=env)
    (path / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (path / "README.md").write_text("# demo\n")
    (path / "notes.txt").write_text("v1\n")
    _git(path, "add", ".", env=env)
    _git(path, "commit", "-qm", "initial", env=env)
    (path / "notes.txt").write_text("stashed\n")
    _git(path, "stash", "-q", env=env)
    (path / "README.md").write_text("# demo\nstaged work\n")
    _git(path, "add", "README.md", env=env)
    (path / "notes.txt").write_text("unstaged work\n")
    (path / "scratch.txt").write_text("untracked work\n")


def snapshot(repo: Path, env: dict[str, str]) -> dict[str, str]:
    state = {"index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest(),
             "HEAD": (repo / ".git" / "HEAD").read_text(),
             "stash": _git(repo, "stash", "list", env=env)}
    refs = _git(repo, "for-each-ref", "--format=%(refname) %(objectname)", env=env)
    state["refs"] = "\n".join(r for r in refs.splitlines() if not r.startswith("refs/heads/atlas/"))
    files = []
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo).as_posix()
        if rel.split("/")[0] in (".git", ".atlas") or not p.is_file():
            continue
        files.append(f"{rel} {hashlib.sha256(p.read_bytes()).hexdigest()}")
    state["tree"] = "\n".join(files)
    return state


def leftovers(repo: Path, env: dict[str, str]) -> list[str]:
    """Scratch worktrees, locks and incomplete atlas branches still present."""
    found = []
    wts = [x for x in _git(repo, "worktree", "list", "--porcelain", env=env).splitlines()
           if x.startswith("worktree ")]
    if len(wts) > 1:
        found.append(f"{len(wts) - 1} worktree(s)")
    for sub in ("worktrees", "locks"):
        d = repo / ".atlas" / sub
        if d.is_dir() and any(p.name != "worktrees.mutex" for p in d.iterdir()):
            found.append(f".atlas/{sub} not empty")
    proc = subprocess.run([sys.executable, "-m", "atlas_git", "proposals", "--json"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    for prop in json.loads(proc.stdout or "[]"):
        if prop["status"] == "incomplete":
            found.append(f"incomplete branch {prop['branch']}")
    return found


@dataclass
class Result:
    trials: int = 0
    violations: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    cleaned: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_trials(trials: int, seed: int, workdir: Path, *, verbose: bool = False) -> Result:
    rng = random.Random(seed)
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = hermetic_env(home)
    repo = workdir / "repo"
    make_repo(repo, env)
    edit_file = workdir / "edit.txt"
    edit_file.write_text(EDIT)
    result = Result()
    with FakeLLM(handler=lambda body: Reply(EDIT, delay=rng.uniform(0, 0.3))) as server:
        llm_env = {**env, "ATLAS_BASE_URL": server.base_url, "ATLAS_API_KEY": "sk-bench-not-a-key"}
        # One unkilled run of each kind measures how long the window is.
        timing: dict[str, float] = {}
        for kind in ("apply", "fix"):
            started = time.monotonic()
            subprocess.run(_command(kind, edit_file), cwd=repo, env=llm_env, capture_output=True,
                           timeout=120)
            timing[kind] = time.monotonic() - started
        baseline = snapshot(repo, env)
        for i in range(trials):
            kind = "apply" if i % 2 == 0 else "fix"
            trial_env = dict(llm_env)
            if rng.random() < 0.5:
                step = rng.choice(STEPS)
                trial_env["ATLAS_FAULT_AT"] = step
                how = f"step:{step}"
                delay = None
            else:
                delay = rng.uniform(0.05, timing[kind] * 1.1)
                how = "delay"
            started = time.monotonic()
            errfile = workdir / "stderr.txt"
            with errfile.open("wb") as err:
                proc = subprocess.Popen(_command(kind, edit_file), cwd=repo, env=trial_env,
                                        stdout=subprocess.DEVNULL, stderr=err)
            if delay is not None:
                try:
                    proc.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=120)
            result.durations.append(time.monotonic() - started)
            result.trials += 1
            killed = proc.returncode == -signal.SIGKILL
            if not killed and proc.returncode != 0:
                tail = errfile.read_text(errors="replace").strip().splitlines()[-1:]
                last = " ".join(tail)[:200]
                result.notes.append(f"trial {i} ({kind} {how}) exit {proc.returncode}: {last}")
            result.kinds[f"{kind} {how} {'killed' if killed else 'finished'}"] += 1
            after = snapshot(repo, env)
            for key in baseline:
                if after[key] != baseline[key]:
                    result.violations.append(f"trial {i} ({kind} {how}): user {key} changed")
            if leftovers(repo, env):
                result.cleaned["trials that left debris"] += 1
            # Cleanup by gc or by the next run, alternately.
            if i % 4 < 2:
                subprocess.run([sys.executable, "-m", "atlas_git", "gc"], cwd=repo, env=env,
                               capture_output=True, timeout=60)
                result.cleaned["gc"] += 1
            else:
                subprocess.run(_command("apply", edit_file), cwd=repo, env=env, capture_output=True,
                               timeout=120)
                result.cleaned["next run"] += 1
            rest = leftovers(repo, env)
            if rest:
                result.violations.append(f"trial {i} ({kind} {how}): left behind {', '.join(rest)}")
            if snapshot(repo, env) != baseline:
                result.violations.append(f"trial {i}: cleanup changed the user's state")
            if verbose:
                print(f"trial {i:3d} {kind:5s} {how:22s} rc={proc.returncode} leftovers={rest}")
    return result


def _command(kind: str, edit_file: Path) -> list[str]:
    if kind == "apply":
        return [sys.executable, "-m", "atlas_git", "apply", "--test", "sleep 0.1", str(edit_file)]
    return [sys.executable, "-m", "atlas_git", "edit", "guard add against None", "app.py", "--tier",
            "gold", "--yes", "--test", "sleep 0.1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-faults-") as tmp:
        started = time.monotonic()
        result = run_trials(args.trials, args.seed, Path(tmp), verbose=args.verbose)
        elapsed = time.monotonic() - started
    print(f"trials: {result.trials}   violations: {len(result.violations)}   ({elapsed:.1f}s)")
    for kind, count in sorted(result.kinds.items()):
        print(f"  {count:3d}  {kind}")
    print(f"  cleanup by: {dict(result.cleaned)}")
    for note in result.notes[:10]:
        print(f"  note: {note}")
    for v in result.violations[:20]:
        print(f"  VIOLATION {v}")
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
