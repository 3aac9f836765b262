"""Routing speed: cold CLI wall time and warm in-process latency.

    python benchmarks/route_speed.py [--runs 10]

Cold: ``git atlas route --offline --json "..."`` as a user runs it, with the
interpreter start-up included, beside ``python3 -c pass`` and
``python3 -c "import click"`` measured interleaved in the same run (so load
from other processes hits all three alike). Median of N runs each.
Warm: ``route()`` in-process on varied requests, p50/p95 per request.
Targets: cold <= 0.5 s wall; warm <= 5 ms p50.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REQUEST = "fix the crash in parse() when the input file is empty"
WARM_REQUESTS = [
    "fix the crash in parse() when the input file is empty",
    "format the date as ISO 8601 in the export",
    "optimize imports in utils.py",
    "review my staged changes for race conditions",
    "why does the scheduler use a heap instead of a sorted list?",
    "redesign the billing backend as separate services",
    "Traceback (most recent call last):\n  File \"a.py\", line 3, in <module>\nKeyError: 'x'",
    "speed up the csv import, it takes 4 minutes",
    "add a --dry-run flag to the deploy script",
    "write unit tests for the slugify helper",
]


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def cold(runs: int) -> None:
    py = sys.executable
    git_atlas = [shutil.which("git") or "git", "atlas"]
    if not shutil.which("git-atlas"):
        git_atlas = [py, "-m", "atlas_git"]
    commands = {
        "python3 -c pass": [py, "-c", "pass"],
        "python3 -c 'import click'": [py, "-c", "import click"],
        "git atlas route --offline --json": [*git_atlas, "route", "--offline", "--json", REQUEST],
    }
    _time(commands["git atlas route --offline --json"])  # warm the page cache and model cache
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(_time(cmd))
    base = statistics.median(samples["python3 -c pass"])
    print(f"cold start, median of {runs} (load average {os.getloadavg()[0]:.2f}):")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"  {name:<36} {med:6.3f} s   ({med / base:4.1f}x python3 -c pass; "
              f"min {min(values):.3f}, max {max(values):.3f})")
    route_med = statistics.median(samples["git atlas route --offline --json"])
    print(f"  target <= 0.5 s: {'OK' if route_med <= 0.5 else 'MISSED'}")


def warm(rounds: int) -> None:
    from atlas_git.config import load_config
    from atlas_git.core.router import route

    config = load_config(None)
    for request in WARM_REQUESTS:  # load the model and head once
        route(request, config=config, repo=None, offline=True)
    times: list[float] = []
    for _ in range(rounds):
        for request in WARM_REQUESTS:
            started = time.perf_counter()
            route(request, config=config, repo=None, offline=True)
            times.append(time.perf_counter() - started)
    times.sort()
    p50 = times[len(times) // 2] * 1000
    p95 = times[int(len(times) * 0.95)] * 1000
    print(f"warm route(), {len(times)} requests: p50 {p50:.2f} ms, p95 {p95:.2f} ms "
          f"(target p50 <= 5 ms: {'OK' if p50 <= 5 else 'MISSED'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    cold(args.runs)
    warm(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
