"""The hard cap under concurrency: 16 real CLI processes against one ledger.

Each process makes metered calls (`git atlas models test ... --count 100`)
until the budget refuses one. Recorded spend must never pass the daily limit
and must end within one call's worst case of it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from atlas_git.core.calls import prompt_tokens
from atlas_git.testing.fake_llm import FakeLLM, Fault, Reply
from tests.conftest import TEST_API_KEY

PROCESSES = 16
COST = 0.01  # what the server charges per call (usage.cost)
LIMIT = 0.2
MAX_TOKENS = 16
PRICE_PER_TOKEN = 0.001  # config price: worst case per call is about $0.033
MESSAGE = [{"role": "user", "content": "Reply with the single word OK."}]
WORST = (prompt_tokens(MESSAGE, None) + MAX_TOKENS) * PRICE_PER_TOKEN


def _config(repo: Path) -> None:
    (repo / ".atlas").mkdir()
    per_mtok = PRICE_PER_TOKEN * 1e6
    (repo / ".atlas" / "config.toml").write_text(
        "[provider]\nmax_retries = 0\nread_timeout = 10.0\n"
        f"[budget]\ndaily = {LIMIT}\n"
        f'[models."fake/paid"]\ninput_per_mtok = {per_mtok}\noutput_per_mtok = {per_mtok}\n'
        '[models."fake/free"]\ninput_per_mtok = 0.0\noutput_per_mtok = 0.0\n')


def _run_all(repo: Path, server: FakeLLM, models: list[str]) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "ATLAS_BASE_URL": server.base_url, "ATLAS_API_KEY": TEST_API_KEY}
    cmd = [sys.executable, "-m", "atlas_git", "models", "test", *models, "--count", "100",
           "--max-tokens", str(MAX_TOKENS), "--json"]
    procs = [subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(PROCESSES)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _ledger(repo: Path) -> dict[str, Any]:
    conn = sqlite3.connect(repo / ".atlas" / "usage.db")
    try:
        return {
            "spent": conn.execute("SELECT COALESCE(SUM(cost), 0) FROM calls").fetchone()[0],
            "paid_ok": conn.execute("SELECT COUNT(*) FROM calls WHERE model_requested = 'fake/paid'"
                                    " AND success = 1").fetchone()[0],
            "rows": conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0],
            "holds": conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0],
            "bucket_total": conn.execute("SELECT COALESCE(SUM(nusd), 0) FROM spend_buckets").fetchone()[0],
        }
    finally:
        conn.close()


def _check(repo: Path, server: FakeLLM, results: list[subprocess.CompletedProcess[str]]) -> dict[str, Any]:
    for res in results:
        # Every process ran until the budget refused it, with one clear line.
        assert res.returncode == 1, res.stderr
        assert "budget refused" in res.stderr and "Traceback" not in res.stderr
    ledger = _ledger(repo)
    assert ledger["spent"] <= LIMIT + 1e-12
    assert ledger["spent"] > LIMIT - WORST
    assert ledger["bucket_total"] == round(ledger["spent"] * 1e9)
    assert ledger["holds"] == 0
    # Every HTTP request the server saw is one ledger row.
    assert ledger["rows"] == len(server.chat_requests())
    print(f"\n{PROCESSES} processes: spent ${ledger['spent']:.4f} of ${LIMIT} limit "
          f"(worst case per call ${WORST:.4f}), {ledger['paid_ok']} paid calls, {ledger['rows']} rows")
    return ledger


@pytest.mark.slow
def test_sixteen_processes_never_overspend(repo: Path) -> None:
    _config(repo)
    with FakeLLM(default=Reply("OK", cost=COST, delay=0.02)) as server:
        results = _run_all(repo, server, ["fake/paid"])
        ledger = _check(repo, server, results)
    assert ledger["paid_ok"] == round(ledger["spent"] / COST)


@pytest.mark.slow
def test_paid_fallback_behind_free_primary_never_overspends(repo: Path) -> None:
    _config(repo)

    def handler(body: dict[str, Any]) -> Reply:
        if body.get("model") == "fake/free":
            return Fault.server_error(503)  # the free model is overloaded: every call falls back
        return Reply("OK", cost=COST, delay=0.02)

    with FakeLLM(handler=handler) as server:
        results = _run_all(repo, server, ["fake/free", "fake/paid"])
        ledger = _check(repo, server, results)
    models = [b["model"] for b in server.chat_requests()]
    assert models.count("fake/paid") == ledger["paid_ok"] >= 1
    assert models.count("fake/free") >= ledger["paid_ok"]


def test_hold_of_a_killed_process_lapses(repo: Path) -> None:
    _config(repo)  # daily $0.20, worst case ~$0.033 per call
    (repo / ".atlas" / "budget.toml").write_text("[budget]\ndaily = 0.05\n")
    with FakeLLM(default=Reply("OK", cost=COST)) as server:
        server.push(Reply("slow", cost=COST, delay=30))
        env = {**os.environ, "ATLAS_BASE_URL": server.base_url, "ATLAS_API_KEY": TEST_API_KEY}
        cmd = [sys.executable, "-m", "atlas_git", "models", "test", "fake/paid",
               "--max-tokens", str(MAX_TOKENS)]
        victim = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while not server.chat_requests():  # the victim holds its reservation and waits on the reply
                assert time.monotonic() < deadline and victim.poll() is None
                time.sleep(0.05)
            blocked = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=60)
            assert blocked.returncode == 1 and f"held by running calls ${WORST:.4f}" in blocked.stderr
        finally:
            victim.kill()
            victim.wait()
        after = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=60)
        assert after.returncode == 0, after.stderr
    ledger = _ledger(repo)
    assert ledger["holds"] == 0 and ledger["paid_ok"] == 1
