"""``git atlas route``: where would this request go, and why."""

from __future__ import annotations

import click

from atlas_git.core.router.decision import INTENTS, TIERS


@click.command()
@click.argument("text", nargs=-1)
@click.option("--offline", is_flag=True, help="Never call a provider (no AI classifier).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: intent, tier, model, confidence, method, "
                   "estimated_cost, reasoning, alternatives.")
@click.option("--explain", is_flag=True, help="Show each method's vote and score and why the winner won.")
@click.option("--files", "-f", "files", multiple=True, metavar="P",
              help="A file the request is about (repeatable); its size and count move the tier.")
@click.option("--tier", type=click.Choice(TIERS), help="Force the tier (method becomes 'forced').")
@click.option("--model", help="Force the model (method becomes 'forced').")
@click.option("--intent", type=click.Choice(INTENTS), help="Force the intent (method becomes 'forced').")
@click.option("--batch", metavar="FILE",
              help="Route one request per line of FILE ('-' for stdin); prints JSON Lines.")
def route(text: tuple[str, ...], offline: bool, as_json: bool, explain: bool, files: tuple[str, ...],
          tier: str | None, model: str | None, intent: str | None, batch: str | None) -> int:
    """Route TEXT to an intent, a tier and a model within budget.

    Methods in order: AI classifier (skipped with --offline or without a key),
    semantic (MiniLM embeddings), patterns, default.
    """
    from atlas_git.commands.route import run_route

    return run_route(text, offline=offline, as_json=as_json, explain=explain, files=files,
                     tier=tier, model=model, intent=intent, batch=batch)
