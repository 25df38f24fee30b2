"""pggit-flows: Git-style branching, merging and coordination of PostgreSQL schema changes.

The faces a user imports, as the seed document uses them::

    from pggit_core import PgGitClient, MigrationGenerator
    from pggit_core.coordination import IntentRegistry, RiskLevel, IntentStatus
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["IntentRegistry", "IntentStatus", "Migration", "MigrationGenerator", "NothingToGenerate", "PgGitClient",
           "RiskLevel", "__version__"]

_EXPORTS = {
    "PgGitClient": "pggit_core.client",
    "MigrationGenerator": "pggit_core.migrations",
    "Migration": "pggit_core.migrations",
    "NothingToGenerate": "pggit_core.migrations",
    "IntentRegistry": "pggit_core.coordination",
    "IntentStatus": "pggit_core.coordination",
    "RiskLevel": "pggit_core.coordination",
}

if TYPE_CHECKING:
    from pggit_core.client import PgGitClient
    from pggit_core.coordination import IntentRegistry, IntentStatus, RiskLevel
    from pggit_core.migrations import Migration, MigrationGenerator, NothingToGenerate


def __getattr__(name: str) -> Any:
    """Import the public classes on first use, so `import pggit_core` (and the CLI) stays quick."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pggit_core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
