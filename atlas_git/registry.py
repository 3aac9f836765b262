"""The command registry: name -> "module:attribute" of its click command.

Kept apart from the CLI so that other layers can ask which commands exist
without importing click. Add one line per command.
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    # router (issue 2)
    "route": "atlas_git.cli.route:route",
    "doctor": "atlas_git.cli.doctor:doctor",
    "demo": "atlas_git.cli.demo:demo",
    # budget ledger, telemetry (issue 3)
    "budget": "atlas_git.cli.budget:budget",
    "models": "atlas_git.cli.models:models",
    "stats": "atlas_git.cli.stats:stats",
    "export": "atlas_git.cli.data:export_cmd",
    "import": "atlas_git.cli.data:import_cmd",
    "memory": "atlas_git.cli.data:memory",
    # executor (issue 4)
    "fix": "atlas_git.cli.fix:fix",
    "edit": "atlas_git.cli.fix:edit",
    "generate": "atlas_git.cli.fix:generate",
    "debug": "atlas_git.cli.fix:debug",
    "optimize": "atlas_git.cli.fix:optimize",
    "format": "atlas_git.cli.fix:format_cmd",
    "explain": "atlas_git.cli.fix:explain",
    "apply": "atlas_git.cli.apply:apply",
    "proposals": "atlas_git.cli.proposals:proposals",
    "show": "atlas_git.cli.proposals:show",
    "accept": "atlas_git.cli.proposals:accept",
    "discard": "atlas_git.cli.proposals:discard",
    "gc": "atlas_git.cli.proposals:gc",
    # review (issue 5)
    "review": "atlas_git.cli.review:review",
    "hooks": "atlas_git.cli.hooks:hooks",
}


def available(name: str) -> bool:
    """True when the command's module is installed (lets issues land one by one)."""
    import importlib.util

    return importlib.util.find_spec(COMMANDS[name].split(":")[0]) is not None
