"""Which database the tasks work on: a DSN, or ``block:<name>``, a Prefect Secret block holding one (so that
flow and task parameters carry the block's name, never a password). Each task turns its ``dsn`` parameter
into a DSN with `dsn_of` before it calls the service."""

from __future__ import annotations

from prefect.blocks.system import Secret

from pggit_core import service
from pggit_core.errors import ConfigError
from pggit_core.service import resolve_dsn

BLOCK_PREFIX = "block:"


def dsn_of(target: str | None) -> str:
    """A usable DSN: ``block:<name>`` reads the Prefect Secret block of that name; anything else goes through
    `resolve_dsn` (None: $PGGIT_DSN, else the embedded server's)."""
    if target is None or not target.startswith(BLOCK_PREFIX):
        return resolve_dsn(target)
    name = target[len(BLOCK_PREFIX):].strip()
    try:
        block: object = Secret.load(name)
    except ValueError as exc:
        raise ConfigError(f"the Prefect Secret block {name!r} could not be loaded: {exc}",
                          hint=f"create it: Secret(value='postgresql://...').save({name!r})") from exc
    value: object = block.get() if isinstance(block, Secret) else None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"the Prefect block {name!r} is not a Secret block holding a DSN",
                          hint="store the DSN as a plain string in a Secret block")
    return value.strip()


def resolve_target(dsn: str | None) -> str:
    """What the flow's tasks connect with: a ``block:<name>`` reference as given (checked), else the given DSN,
    else $PGGIT_DSN, else the embedded server's (started on demand). The database must have pggit installed."""
    target = dsn if dsn is not None and dsn.startswith(BLOCK_PREFIX) else resolve_dsn(dsn)
    service.require_installed(dsn_of(target))
    return target
