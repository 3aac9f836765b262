"""Terminal charts (rich) for analytics and stats: people would rather look than read."""

from __future__ import annotations

import sys
from typing import Any

_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, top: float, width: int = 30) -> str:
    """A horizontal bar of ``width`` cells scaled so ``top`` fills it (eighth-cell precision)."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(min(eighths, width * 8), 8)
    return "█" * full + (_BLOCKS[rest] if rest else "")


def _console() -> Any:
    from rich.console import Console

    from atlas_git import ui

    tty = sys.stdout.isatty()
    # Piped output has no width: 110 columns keep long model ids and their bars on one line.
    return Console(file=sys.stdout, no_color=not ui.use_color(sys.stdout), highlight=False,
                   width=None if tty else 110)


def _money(value: float | None) -> str:
    return "?" if value is None else f"${value:,.4f}"


def render_analytics(data: dict[str, Any]) -> None:
    """Daily spend and per-model cost as bar charts, then intents and recommendations."""
    from rich.table import Table

    console = _console()
    console.print(f"[bold]Spend over the last {data['days']} day(s)[/bold]: {_money(data['total_cost'])} "
                  f"in {data['total_calls']} call(s)  (timezone {data['timezone']})")
    top = max((d["cost"] for d in data["by_day"]), default=0.0)
    days = Table(title="Daily spend", show_edge=False, box=None, pad_edge=False)
    days.add_column("day")
    days.add_column("cost", justify="right")
    days.add_column("calls", justify="right")
    days.add_column("")
    for day in data["by_day"]:
        days.add_row(day["date"], _money(day["cost"]), str(day["calls"]),
                     f"[cyan]{bar(day['cost'], top)}[/cyan]")
    console.print(days)
    if data["by_model"]:
        top = max(m["cost"] for m in data["by_model"])
        models = Table(title="Cost per model", show_edge=False, box=None, pad_edge=False)
        models.add_column("model", no_wrap=True)
        for name in ("cost", "share", "calls", "success"):
            models.add_column(name, justify="right")
        models.add_column("", no_wrap=True)
        for m in data["by_model"]:
            rate = "-" if m["success_rate"] is None else f"{m['success_rate']:.0%}"
            models.add_row(m["model"], _money(m["cost"]), f"{m['share']:.0%}", str(m["calls"]), rate,
                           f"[magenta]{bar(m['cost'], top, 24)}[/magenta]")
        console.print(models)
    if data["by_intent"]:
        intents = ", ".join(f"{i['intent']} {_money(i['cost'])} ({i['calls']})" for i in data["by_intent"])
        console.print(f"By intent: {intents}")
    if data["unknown_cost_calls"]:
        console.print(f"[yellow]{data['unknown_cost_calls']} call(s) with unknown cost[/yellow]")
    for rec in data["recommendations"]:
        console.print(f"- {rec}")


def render_stats(data: dict[str, Any]) -> None:
    """Latency per model, routing method mix and outcome success as tables."""
    from rich.table import Table

    console = _console()
    lat = Table(title=f"Latency per model (last {data['days']} days)", show_edge=False, box=None)
    for name in ("model", "calls", "errors", "p50 s", "p95 s"):
        lat.add_column(name, justify="left" if name == "model" else "right")
    for row in data["latency"]:
        lat.add_row(row["model"], str(row["calls"]), str(row["errors"]),
                    "-" if row["p50"] is None else f"{row['p50']:.2f}",
                    "-" if row["p95"] is None else f"{row['p95']:.2f}")
    console.print(lat if data["latency"] else "No provider calls recorded.")
    total = sum(data["methods"].values())
    if total:
        mix = Table(title=f"Routing method mix (from {data['method_source']})", show_edge=False, box=None)
        for name in ("method", "count", "share", ""):
            mix.add_column(name)
        top = max(data["methods"].values())
        for method, count in sorted(data["methods"].items(), key=lambda kv: -kv[1]):
            mix.add_row(method, str(count), f"{count / total:.0%}", f"[cyan]{bar(count, top, 20)}[/cyan]")
        console.print(mix)
    for key, label in (("outcomes_by_model", "model"), ("outcomes_by_tier", "tier")):
        rows = data[key]
        if not rows:
            continue
        table = Table(title=f"Outcomes per {label}", show_edge=False, box=None)
        for name in (label, "kind", "ok/total", "success"):
            table.add_column(name)
        for row in rows:
            table.add_row(row[label], row["kind"], f"{row['ok']}/{row['total']}",
                          f"{row['success_rate']:.0%}")
        console.print(table)
    if not any(data[k] for k in ("outcomes_by_model", "outcomes_by_tier")):
        console.print("No apply/test outcomes recorded yet.")
