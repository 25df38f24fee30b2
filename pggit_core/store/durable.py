"""The transaction rule of every public pggit operation: atomic, and durable when it returns."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import psycopg

P = ParamSpec("P")
R = TypeVar("R")


class HasConnection(Protocol):
    """A face that works on one connection (PgGitClient, IntentRegistry, MigrationGenerator)."""

    conn: psycopg.Connection[Any]


F = TypeVar("F", bound=HasConnection)


@contextmanager
def operation(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Run one public pggit operation on ``conn``.

    - Atomic: the body runs in a transaction (a savepoint when one is already open); an error rolls back the
      operation's own work only and leaves the connection usable, never in a failed-transaction state.
    - Durable: on a connection that is not autocommit, the open transaction is committed when the operation
      is done, so what the caller ran on that connection before it (the DDL an agent ran on its branch
      before ``commit``) is committed too. Inside the caller's own ``with conn.transaction()`` block (or a
      two-phase transaction) nothing is committed: that block decides.

    Operations nest: an operation run inside another is a savepoint of it.
    """
    with conn.transaction():
        yield
    if conn.autocommit:
        return
    try:
        conn.commit()
    except psycopg.ProgrammingError as exc:
        # psycopg refuses commit() itself (no SQLSTATE: nothing reached the server) inside a `with
        # conn.transaction()` block (ours, when operations nest, or the caller's) and during a two-phase
        # transaction: the owner of that block commits. A COMMIT the server refused is raised.
        if exc.sqlstate is not None:
            raise


def durable(method: Callable[Concatenate[F, P], R]) -> Callable[Concatenate[F, P], R]:
    """Decorate a face method so that it runs as one ``operation`` on ``self.conn``."""

    @functools.wraps(method)
    def run(self: F, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with operation(self.conn):
            return method(self, *args, **kwargs)

    return run
