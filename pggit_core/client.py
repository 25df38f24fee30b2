"""PgGitClient: the one typed Python face over pggit's SQL functions, on one connection (one session)."""

from __future__ import annotations

from typing import Any

import psycopg

from pggit_core.store import commits
from pggit_core.store.commits import CapturedCommand, Commit


class PgGitClient:
    """Branches, checkout, commits, log and diff over ``conn``.

    The connection is one PostgreSQL session: ``checkout`` changes that session's search_path, so the
    DDL you then run on ``conn`` lands on the branch. On a connection that is not autocommit, the
    checkout (like every call here) lasts only if you commit the transaction. Each method maps
    pggit's SQLSTATEs to the classes of ``pggit_core.errors``.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    # Checkout, commits, log (sql/capture.sql).

    def checkout(self, name: str) -> str:
        """Put this session on branch ``name`` ('main' goes back); returns the search_path set."""
        return commits.checkout(self.conn, name)

    def current_branch(self) -> str:
        """The branch this session is on ('main' when it never checked out)."""
        return commits.current_branch(self.conn)

    def commit(self, message: str, author: str | None = None) -> Commit:
        """Commit the session's branch: its snapshot plus the DDL captured since the last commit."""
        return commits.commit(self.conn, message, author)

    def log(self, branch: str | None = None, limit: int = 50) -> list[Commit]:
        """Commits of ``branch`` (default: the session's), newest first."""
        return commits.log(self.conn, branch, limit)

    def uncommitted(self, branch: str | None = None) -> list[CapturedCommand]:
        """DDL captured on ``branch`` (default: the session's) that no commit holds yet."""
        return commits.uncommitted(self.conn, branch)
