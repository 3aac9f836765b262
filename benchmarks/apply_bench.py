"""Apply benchmark: real commits, damaged the way models damage diffs, applied three ways.

For each sampled non-merge commit of REPO, the commit's diff is rebuilt in
several damaged variants and applied onto the parent's files by atlas-git's
engine (``parse_edits`` + ``apply_edits``), by ``git apply`` and by
``patch --fuzz=3``, in the same run. Outcomes:

- correct: the touched files equal the commit's (trailing whitespace compared
  normalised only for the variants that strip it);
- refused: the tool reported an error or a partial application, or changed nothing;
- wrong: the tool reported success but the files differ.

    python benchmarks/make_corpus.py /tmp/atlas-corpus      # or any repo with history
    python benchmarks/apply_bench.py /tmp/atlas-corpus --commits 150 --seed 1
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlas_git.core.edits import apply_edits, parse_edits
from atlas_git.errors import AtlasError

VARIANTS = ("exact", "wrong_numbers", "no_numbers", "no_prefix", "fenced", "stripped_ws",
            "less_context", "mix")
# --extra: other shapes models send (not part of the headline figure).
EXTRA = ("search_replace", "reindented", "crlf_file", "random_context", "zero_context",
         "blank_dropped", "blank_added")
TOOLS = ("atlas", "git apply", "patch --fuzz=3")
_WS_VARIANTS = {"stripped_ws", "mix"}
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_MAX_CHANGED_LINES = 400
_MAX_FILES = 8
_MAX_BLOB = 200_000


def _git(repo: Path, *args: str, text: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, env=env, check=True).stdout
    return out.decode("utf-8", "surrogateescape") if text else out.decode("latin-1")


@dataclass
class Case:
    commit: str
    parent: str
    before: dict[str, str | None]  # touched path -> parent content
    after: dict[str, str | None]  # touched path -> commit content
    diff3: str  # git diff -U3
    diff1: str  # git diff -U1
    diff0: str = ""  # git diff -U0

    @property
    def edits_only(self) -> bool:
        """Every touched file exists, non-empty, before and after (no creations or deletions):
        an empty or new file has no indentation or newline style to follow."""
        return all(v for v in (*self.before.values(), *self.after.values()))


def _blob(repo: Path, rev: str, path: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"], cwd=repo,
                          capture_output=True, env=env)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", "surrogateescape")


def _eligible(repo: Path, commit: str, parent: str) -> Case | None:
    raw = _git(repo, "diff", "--raw", "--numstat", "--no-renames", parent, commit)
    paths: list[str] = []
    changed = 0
    for line in raw.splitlines():
        if line.startswith(":"):
            meta, path = line.split("\t", 1)
            modes = meta[1:].split()[:2]
            if any(m in ("120000", "160000") for m in modes):
                return None  # symlinks and submodules are not text edits
            paths.append(path)
        elif line.strip():
            added, removed, _ = line.split("\t", 2)
            if added == "-" or removed == "-":
                return None  # binary
            changed += int(added) + int(removed)
    if not paths or len(paths) > _MAX_FILES or changed == 0 or changed > _MAX_CHANGED_LINES:
        return None
    before = {p: _blob(repo, parent, p) for p in paths}
    after = {p: _blob(repo, commit, p) for p in paths}
    for content in (*before.values(), *after.values()):
        if content is not None and (len(content) > _MAX_BLOB or "\0" in content or _undecodable(content)):
            return None
    base = ["diff", "--no-color", "--no-ext-diff", "--no-renames", parent, commit, "--"]
    return Case(commit, parent, before, after,
                _git(repo, *base[:1], "-U3", *base[1:], *paths),
                _git(repo, *base[:1], "-U1", *base[1:], *paths),
                _git(repo, *base[:1], "-U0", *base[1:], *paths))


def _undecodable(content: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in content)


# --- damage ------------------------------------------------------------------

def _renumber(diff: str, rng: random.Random, bare: bool) -> str:
    out = []
    for line in diff.split("\n"):
        m = _HUNK.match(line)
        if not m:
            out.append(line)
            continue
        if bare:
            out.append("@@ ... @@")
            continue
        def shift(n: int) -> int:
            return max(1, n + rng.choice([-1, 1]) * rng.randint(3, 40))
        def recount(n: int) -> int:
            return max(0, n + rng.choice([-2, -1, 1, 2]))
        a, b = int(m.group(1)), int(m.group(2) or 1)
        c, d = int(m.group(3)), int(m.group(4) or 1)
        out.append(f"@@ -{shift(a)},{recount(b)} +{shift(c)},{recount(d)} @@{m.group(5)}")
    return "\n".join(out)


def _no_prefix(diff: str) -> str:
    out = []
    for line in diff.split("\n"):
        if line.startswith(("diff --git ", "index ", "new file mode", "deleted file mode",
                            "old mode", "new mode")):
            continue
        if line.startswith("--- a/"):
            line = "--- " + line[6:]
        elif line.startswith("+++ b/"):
            line = "+++ " + line[6:]
        out.append(line)
    return "\n".join(out)


def _fence(diff: str) -> str:
    return ("Sure! Here is the change you asked for.\n\n```diff\n" + diff.rstrip("\n")
            + "\n```\n\nThis keeps the behaviour the same otherwise. Let me know if you "
            "want the tests updated too.\n")


def _strip_ws(diff: str) -> str:
    return "\n".join(line.rstrip() for line in diff.split("\n"))


def _hunks(diff: str) -> list[tuple[str, list[list[str]]]]:
    """(path, hunk bodies) per file of a git diff."""
    files: list[tuple[str, list[list[str]]]] = []
    body: list[str] | None = None
    for line in diff.split("\n"):
        if line.startswith("+++ "):
            files.append((line[6:] if line.startswith("+++ b/") else line[4:], []))
            body = None
        elif line.startswith("@@") and files:
            body = []
            files[-1][1].append(body)
        elif body is not None and line[:1] in (" ", "+", "-", "\\"):
            body.append(line)
        else:
            body = None
    return files


def _search_replace(case: Case) -> str:
    out = ["I'll make these changes:", ""]
    for path, hunks in _hunks(case.diff3):
        for body in hunks:
            search = [x[1:] for x in body if x[:1] in " -"]
            replace = [x[1:] for x in body if x[:1] in " +"]
            out += [path, "```python", "<<<<<<< SEARCH", *search, "=======", *replace,
                    ">>>>>>> REPLACE", "```", ""]
    return "\n".join(out)


def _reindent(diff: str) -> str:
    """The whole diff indented four more spaces (a model quoting the block nested)."""
    return "\n".join(
        x[0] + "    " + x[1:]
        if x[:1] in " +-" and not x.startswith(("--- ", "+++ ")) and x[1:].strip() else x
        for x in diff.split("\n")
    )


def _random_context(diff: str, rng: random.Random) -> str:
    """Each hunk keeps a random number of its edge context lines; no line numbers."""
    out: list[str] = []
    body: list[str] | None = None

    def flush() -> None:
        if body is None:
            return
        lead = next((i for i, x in enumerate(body) if not x.startswith(" ")), len(body))
        trail = next((i for i, x in enumerate(reversed(body)) if not x.startswith((" ", "\\"))), 0)
        trail = min(trail, len(body) - lead)
        out.append("@@ ... @@")
        out.extend(body[rng.randint(0, lead) : len(body) - rng.randint(0, trail)])

    for line in diff.split("\n"):
        if line.startswith("@@"):
            flush()
            body = []
        elif body is not None and line[:1] in (" ", "+", "-", "\\"):
            body.append(line)
        else:
            flush()
            body = None
            out.append(line)
    flush()
    return "\n".join(out)


def _blank_damage(diff: str, rng: random.Random, drop: bool) -> str:
    """Blank context lines dropped (or extra ones added) inside hunks; no line numbers."""
    out: list[str] = []
    lines = diff.split("\n")
    in_hunk = False
    for i, line in enumerate(lines):
        if line.startswith("@@"):
            in_hunk = True
            out.append("@@ ... @@")
            continue
        in_hunk = in_hunk and line[:1] in (" ", "+", "-", "\\")
        if in_hunk and drop and line == " " and rng.random() < 0.5:
            continue
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if in_hunk and not drop and line.startswith(" ") and line.strip() and nxt.startswith(" ") \
                and rng.random() < 0.15:
            out.append(" ")
    return "\n".join(out)


def _crlf(case: Case) -> Case:
    def conv(d: dict[str, str | None]) -> dict[str, str | None]:
        return {p: v.replace("\n", "\r\n") if v is not None else None for p, v in d.items()}
    return Case(case.commit, case.parent, conv(case.before), conv(case.after), case.diff3, case.diff1)


def variant_input(case: Case, variant: str, rng: random.Random) -> tuple[Case, str] | None:
    """(case as the tool sees it, edit text) for a variant, or None where it does not apply."""
    if variant in VARIANTS:
        return case, damage(case, variant, rng)
    if variant == "search_replace":
        return (case, _search_replace(case)) if case.edits_only else None
    if variant == "reindented":
        return (case, _reindent(case.diff3)) if case.edits_only else None
    if variant == "crlf_file":
        # The files use CRLF, the model's diff (as models write them) LF.
        crlf_ok = case.edits_only and not any("\r" in (v or "") for v in case.before.values())
        return (_crlf(case), case.diff3) if crlf_ok else None
    if variant == "random_context":
        return case, _random_context(case.diff3, rng)
    if variant == "zero_context":
        return case, case.diff0
    if variant in ("blank_dropped", "blank_added"):
        return case, _blank_damage(case.diff3, rng, drop=variant == "blank_dropped")
    raise ValueError(variant)


def damage(case: Case, variant: str, rng: random.Random) -> str:
    """The commit's diff, damaged one way (or every way, for ``mix``)."""
    if variant == "exact":
        return case.diff3
    if variant == "wrong_numbers":
        return _renumber(case.diff3, rng, bare=False)
    if variant == "no_numbers":
        return _renumber(case.diff3, rng, bare=True)
    if variant == "no_prefix":
        return _no_prefix(case.diff3)
    if variant == "fenced":
        return _fence(case.diff3)
    if variant == "stripped_ws":
        return _strip_ws(case.diff3)
    if variant == "less_context":
        return case.diff1
    if variant == "mix":
        diff = case.diff1 if rng.random() < 0.7 else case.diff3
        return _fence(_strip_ws(_renumber(_no_prefix(diff), rng, bare=rng.random() < 0.5)))
    raise ValueError(variant)


# --- judging -----------------------------------------------------------------

def _norm(content: str | None, ws: bool) -> str | None:
    if content is None or not ws:
        return content
    return "\n".join(line.rstrip() for line in content.split("\n"))


def _judge(case: Case, result: dict[str, str | None], claimed_ok: bool, ws: bool) -> str:
    same = all(_norm(result.get(p), ws) == _norm(case.after[p], ws) for p in case.after)
    if same:
        return "correct"
    unchanged = all(result.get(p) == case.before[p] for p in case.before)
    if not claimed_ok or unchanged:
        return "refused"
    return "wrong"


def run_atlas(case: Case, text: str, ws: bool) -> tuple[str, str]:
    try:
        edits = parse_edits(text)
    except AtlasError as exc:
        return "refused", str(exc)
    res = apply_edits(edits, lambda p: case.before.get(p))
    result = dict(case.before)
    if res.status != "refused":
        result.update(res.files)
    verdict = _judge(case, result, res.status == "applied", ws)
    return verdict, "; ".join(res.errors)


def _run_tool(
    case: Case, text: str, ws: bool, cmd: Callable[[int], list[str]], plevel: int
) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path, content in case.before.items():
            if content is not None:
                target = root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content.encode("utf-8", "surrogateescape"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["GIT_CEILING_DIRECTORIES"] = str(root.parent)
        proc = subprocess.run(cmd(plevel), cwd=root, input=text.encode("utf-8", "surrogateescape"),
                              capture_output=True, env=env)
        result: dict[str, str | None] = {}
        for path in case.before:
            target = root / path
            is_file = target.is_file()
            result[path] = target.read_bytes().decode("utf-8", "surrogateescape") if is_file else None
        msg = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        return _judge(case, result, proc.returncode == 0, ws), (msg[0] if msg else "")


def run_git_apply(case: Case, text: str, ws: bool, plevel: int) -> tuple[str, str]:
    return _run_tool(case, text, ws, lambda p: ["git", "apply", f"-p{p}"], plevel)


def run_patch(case: Case, text: str, ws: bool, plevel: int) -> tuple[str, str]:
    return _run_tool(case, text, ws, lambda p: [
        "patch", f"-p{p}", "--fuzz=3", "--batch", "--forward", "-E", "--no-backup-if-mismatch",
        "-r", "/dev/null", "-s"], plevel)


# --- main --------------------------------------------------------------------

def sample(repo: Path, n: int, seed: int) -> list[Case]:
    lines = _git(repo, "rev-list", "--no-merges", "--parents", "HEAD").splitlines()
    pairs = [(parts[0], parts[1]) for parts in (line.split() for line in lines) if len(parts) == 2]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    cases: list[Case] = []
    for commit, parent in pairs:
        case = _eligible(repo, commit, parent)
        if case is not None:
            cases.append(case)
            if len(cases) >= n:
                break
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=10, help="print up to N atlas failures")
    parser.add_argument("--extra", action="store_true",
                        help="also run " + ", ".join(EXTRA) + " (reported separately)")
    args = parser.parse_args()
    variants = VARIANTS + (EXTRA if args.extra else ())

    t0 = time.monotonic()
    cases = sample(args.repo, args.commits, args.seed)
    print(f"{len(cases)} commits from {args.repo} (seed {args.seed}), {len(VARIANTS)} variants each")
    tally: dict[tuple[str, str], Counter[str]] = {}
    failures: list[str] = []
    atlas_time = 0.0
    for original in cases:
        for variant in variants:
            # One generator per commit and variant: figures don't depend on --extra.
            rng = random.Random(f"{args.seed}:{original.commit}:{variant}")
            prepared = variant_input(original, variant, rng)
            if prepared is None:
                continue
            case, text = prepared
            ws = variant in _WS_VARIANTS
            plevel = 0 if variant in ("no_prefix", "mix") else 1
            t = time.monotonic()
            verdict, why = run_atlas(case, text, ws)
            atlas_time += time.monotonic() - t
            tally.setdefault(("atlas", variant), Counter())[verdict] += 1
            if verdict != "correct" and len(failures) < args.show:
                failures.append(f"  {verdict:8} {variant:14} {case.commit[:10]} {why[:150]}")
            for tool, fn in (("git apply", run_git_apply), ("patch --fuzz=3", run_patch)):
                v, _ = fn(case, text, ws, plevel)
                tally.setdefault((tool, variant), Counter())[v] += 1

    def row(name: str, counter: Counter[str]) -> str:
        total = sum(counter.values()) or 1
        return (f"{name:16} {100 * counter['correct'] / total:8.1f} {100 * counter['refused'] / total:8.1f} "
                f"{100 * counter['wrong'] / total:6.1f} {total:6d}")

    header = f"{'':16} {'correct%':>8} {'refused%':>8} {'wrong%':>6} {'n':>6}"
    for tool in TOOLS:
        print(f"\n{tool}")
        print(header)
        overall: Counter[str] = Counter()
        for variant in VARIANTS:
            counter = tally.get((tool, variant), Counter())
            overall.update(counter)
            print(row(variant, counter))
        print(row("ALL", overall))
        if args.extra:
            for variant in EXTRA:
                print(row(variant, tally.get((tool, variant), Counter())))
    if failures:
        print("\natlas failures (first few):")
        print("\n".join(failures))
    print(f"\natlas engine time: {atlas_time:.2f}s; total {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
