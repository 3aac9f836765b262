"""The usage ledger in ``.atlas/usage.db`` (see ``schema.py`` for the file, ``store.py`` for writes).

Outside a repository calls are recorded in the user dir (``$ATLAS_HOME/usage.db``)
so that no call goes unrecorded. ``ATLAS_DISABLE_STATE=1`` turns the ledger off;
calls are then allowed only while no budget limit is configured.

Other parts of atlas-git report what happened after a call with
:func:`record_outcome` (apply/test/lint results: they drive each model's
success rate) and :func:`record_decision` (routing decisions: the method mix).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from atlas_git.config import Config
from atlas_git.core.ledger.limits import Limits, limits_from_config
from atlas_git.core.ledger.store import BudgetExceeded, CallRow, Ledger
from atlas_git.errors import AtlasError

__all__ = [
    "BudgetExceeded", "CallRow", "Ledger", "Limits", "forget", "ledger_path", "limits_from_config",
    "open_ledger", "record_decision", "record_outcome", "state_disabled",
]

LEDGER_NAME = "usage.db"
_MAX_OPEN = 32
# One connection per (file, thread): a connection's transactions must not interleave,
# and the review engine calls providers from a thread pool.
_open: dict[tuple[Path, int], Ledger] = {}
_open_lock = threading.Lock()


def state_disabled() -> bool:
    """True when the user turned local state off (``ATLAS_DISABLE_STATE=1``)."""
    return os.environ.get("ATLAS_DISABLE_STATE", "").lower() in ("1", "true", "yes", "on")


def ledger_path(repo: Path | None, *, create_dir: bool = True) -> Path:
    """``<repo>/.atlas/usage.db``, or the user-level ledger outside a repository."""
    if repo is None:
        from atlas_git.paths import user_dir

        base = user_dir()
        if create_dir:
            try:
                base.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AtlasError(f"cannot create {base}: {exc.strerror}") from exc
        return base / LEDGER_NAME
    if create_dir:
        from atlas_git.paths import atlas_dir

        return atlas_dir(repo) / LEDGER_NAME
    return repo / ".atlas" / LEDGER_NAME


def _busy_ms(config: Config | None) -> int:
    raw = config.get("budget.busy_timeout_ms", 5000) if config is not None else 5000
    return int(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else 5000


def open_ledger(config: Config | None, repo: Path | None, *, create: bool = True) -> Ledger | None:
    """The (process-cached) ledger for ``repo``.

    Returns None when state is disabled, or when ``create`` is False and no
    ledger exists yet (readers then see an empty history).
    """
    if state_disabled():
        return None
    path = ledger_path(repo, create_dir=create)
    key = (path, threading.get_ident())
    cached = _open.get(key)
    if cached is not None and path.exists():
        return cached
    if not create and not path.exists():
        return None
    ledger = Ledger.open(path, busy_ms=_busy_ms(config), create=create)
    with _open_lock:
        if len(_open) >= _MAX_OPEN:
            # Evict this thread's oldest connection only: another thread may be using its own.
            mine = [k for k in _open if k[1] == key[1]]
            if mine:
                _open.pop(mine[0]).close()
        _open[key] = ledger
    return ledger


def forget(path: Path) -> None:
    """Close and drop every cached connection to ``path`` (before moving the file aside)."""
    with _open_lock:
        for key in [k for k in _open if k[0] == path]:
            _open.pop(key).close()


def record_outcome(repo: Path | None, request_id: str, kind: str, success: bool, *,
                   model: str | None = None, tier: str | None = None, intent: str | None = None,
                   detail: str | None = None, config: Config | None = None) -> bool:
    """Record an outcome (``kind``: apply, test, lint, review...) of a request.

    Model, tier and intent default to those of the request's last successful
    call. Telemetry never breaks the caller: on a ledger fault this warns and
    returns False.
    """
    from atlas_git import ui
    from atlas_git.core import memory

    try:
        ledger = open_ledger(config, repo)
        if ledger is None:
            return False
        if model is None:
            model, tier0, intent0 = ledger.last_call(request_id)
            tier, intent = tier or tier0, intent or intent0
        ledger.record_outcome(request_id, kind, success, model=model, tier=tier, intent=intent,
                              detail=(detail or "")[:500] or None)
    except AtlasError as exc:
        ui.warn(f"outcome not recorded: {exc}")
        return False
    memory.append(repo, {"type": "outcome", "request_id": request_id, "kind": kind,
                         "success": success, "model": model, "tier": tier, "intent": intent})
    return True


def record_decision(repo: Path | None, request_id: str, *, intent: str | None, tier: str | None,
                    model: str | None, method: str | None, confidence: float | None = None,
                    estimated_cost: float | None = None, override: bool = False,
                    downgraded: bool = False, request: str | None = None,
                    reasoning: str | None = None, config: Config | None = None) -> bool:
    """Record a routing decision (method mix in stats; context in memory). Never raises."""
    from atlas_git import ui
    from atlas_git.core import memory

    try:
        ledger = open_ledger(config, repo)
        if ledger is None:
            return False
        ledger.record_decision(request_id, intent=intent, tier=tier, model=model, method=method,
                               confidence=confidence, estimated_cost=estimated_cost,
                               override=override, downgraded=downgraded)
    except AtlasError as exc:
        ui.warn(f"routing decision not recorded: {exc}")
        return False
    memory.append(repo, {"type": "decision", "request_id": request_id, "request": request,
                         "intent": intent, "tier": tier, "model": model, "method": method,
                         "override": override, "downgraded": downgraded, "reasoning": reasoning})
    return True
