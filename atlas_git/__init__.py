"""atlas-git: an AI coding assistant that lives inside git."""

__version__ = "0.1.0"
