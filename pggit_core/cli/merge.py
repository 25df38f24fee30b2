"""CLI commands of the merge face (filled in by the issue that owns it; see docs/architecture.md)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this face's commands to the root app."""
