"""Review engine: diff parsing, built-in checks, LLM review, output formats.

Import the submodules directly (``from atlas_git.core.review import engine``):
this package stays empty so that ``review --offline`` imports only what it uses.
"""
