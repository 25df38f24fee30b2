"""PgGitClient: typed results and mapped errors over one session."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core.client import PgGitClient
from pggit_core.diff import ChangeKind, Diff
from pggit_core.errors import BranchError, InvalidInput, NotFound
from pggit_core.store.branches import Branch
from pggit_core.store.commits import Commit
from tests.db.capture.helpers import columns, make_branch, physical_schema


def test_checkout_commit_log(main_db: str) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        client = PgGitClient(conn)
        make_branch(conn, "agent/claude-auth")
        schema = physical_schema(conn, "agent/claude-auth")
        assert client.current_branch() == "main"
        assert client.checkout("agent/claude-auth") == f"{schema}, pggit"
        assert client.current_branch() == "agent/claude-auth"
        conn.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")
        pending = client.uncommitted()
        assert [(p.branch, p.command_tag, p.statement) for p in pending] == [
            ("agent/claude-auth", "ALTER TABLE", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")]
        first = client.commit("oauth provider", author="claude")
        assert isinstance(first, Commit)
        assert (first.branch, first.message, first.author) == ("agent/claude-auth", "oauth provider", "claude")
        assert first.statements == ("ALTER TABLE users ADD COLUMN oauth_provider TEXT",)
        conn.execute("CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)")
        second = client.commit("tokens")
        assert second.parent_id == first.commit_id and second.author == "postgres"
        assert [c.commit_id for c in client.log()] == [second.commit_id, first.commit_id]
        assert [c.commit_id for c in client.log("agent/claude-auth", limit=1)] == [second.commit_id]
        with pytest.raises(Exception) as frozen:
            first.message = "changed"  # type: ignore[misc]
        assert "frozen" in str(frozen.value)
        assert "oauth_provider" in columns(conn, schema, "users")
        client.checkout("main")
        assert client.current_branch() == "main"
        assert "oauth_provider" not in columns(conn, "public", "users")


def test_errors_are_mapped(main_db: str) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        client = PgGitClient(conn)
        with pytest.raises(NotFound, match="agent/nope") as info:
            client.checkout("agent/nope")
        assert info.value.hint and "create_branch" in info.value.hint
        with pytest.raises(NotFound):
            client.log("agent/nope")
        with pytest.raises(InvalidInput, match="empty"):
            client.commit("  ")
        with pytest.raises(InvalidInput, match="limit"):
            client.log("main", limit=0)
        make_branch(conn, "agent/guarded")
        client.checkout("agent/guarded")
        with pytest.raises(psycopg.Error) as raw:
            conn.execute("ALTER TABLE public.users ADD COLUMN x int")
        with pytest.raises(BranchError, match="agent/guarded"):
            from pggit_core.store.commits import database_errors

            with database_errors():
                raise raw.value


def test_branches_and_diff(main_db: str) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        client = PgGitClient(conn)
        made = client.create_branch("agent/search")
        assert isinstance(made, Branch) and made.name == "agent/search" and made.parent == "main"
        assert [b.name for b in client.list_branches()] == ["main", "agent/search"]
        assert client.diff("main", "agent/search").is_empty
        client.checkout("agent/search")
        conn.execute("CREATE TABLE search_index (id SERIAL, content TSVECTOR)")
        found = client.diff("main", "agent/search")
        assert isinstance(found, Diff)
        assert found.objects() == {"table:public.search_index": ChangeKind.ADDED,
                                   "sequence:public.search_index_id_seq": ChangeKind.ADDED}
        made_commit = client.commit("search index")
        assert client.diff(f"@{made_commit.commit_id}", "agent/search").is_empty
        client.checkout("main")
        with pytest.raises(BranchError):
            client.delete_branch("agent/search")  # unmerged commits
        client.delete_branch("agent/search", force=True)
        assert [b.name for b in client.list_branches()] == ["main"]
        with pytest.raises(NotFound):
            client.checkout("agent/search")


def test_delete_refuses_a_branch_another_session_is_on(main_db: str) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn, psycopg.connect(main_db, autocommit=True) as agent:
        client = PgGitClient(conn)
        client.create_branch("agent/busy")
        PgGitClient(agent).checkout("agent/busy")
        with pytest.raises(BranchError, match="agent/busy"):
            client.delete_branch("agent/busy", force=True)
        PgGitClient(agent).checkout("main")
        client.delete_branch("agent/busy", force=True)
