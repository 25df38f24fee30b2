"""Tasks retry with backoff on transient database errors only; pggit errors fail at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pytest
from prefect import flow
from prefect.runtime import flow_run

from pggit_core import service
from pggit_core.errors import AlreadyExists, ConflictsBlock, ConnectionFailed, InvalidSQL
from tasks import intents, work

pytestmark = pytest.mark.flows


class FlakyConnections:
    """Wraps service.connection: the first ``failures`` calls raise the given error, the rest connect."""

    def __init__(self, error: BaseException, failures: int) -> None:
        self.error = error
        self.failures = failures
        self.calls = 0
        self._real = service.connection

    def __call__(self, dsn: str | None = None) -> AbstractContextManager[Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self._real(dsn)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FlakyConnections]]:
    made: list[FlakyConnections] = []

    def install(error: BaseException, failures: int) -> FlakyConnections:
        fake = FlakyConnections(error, failures)
        monkeypatch.setattr(service, "connection", fake)
        made.append(fake)
        return fake
    yield install  # type: ignore[misc]


@flow(persist_result=False)
def register_once(dsn: str, feature: str) -> int:
    reg = intents.register_intent(dsn, "claude-retry", feature, ["ALTER TABLE users ADD COLUMN x TEXT"],
                                  ["users"], "low", None)
    return reg.intent.id


def _count(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pggit.intents").fetchone()
    return int(row[0]) if row else 0


def _with_users(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")


def test_a_lost_connection_is_retried_and_the_intent_registered_once(db: str, flaky: Any) -> None:
    _with_users(db)
    fake = flaky(psycopg.OperationalError("server closed the connection unexpectedly (injected)"), 2)
    intent_id = register_once(db, "retried")
    # two failed attempts, then one that connects twice (as the admin to find the agent's role, then as the agent)
    assert fake.calls == 4
    assert _count(db) == 1
    assert service.get_intent(db, intent_id).feature_name == "retried"


def test_a_serialization_failure_is_retried(db: str, flaky: Any) -> None:
    _with_users(db)
    fake = flaky(psycopg.errors.SerializationFailure("could not serialize access (injected)"), 1)
    register_once(db, "serialized")
    assert fake.calls == 3 and _count(db) == 1


def test_pggit_errors_are_not_retried(db: str, flaky: Any) -> None:
    _with_users(db)
    register_once(db, "taken")
    fake = flaky(RuntimeError("unused"), 0)
    state = register_once(db, "taken", return_state=True)
    assert state.is_failed()
    with pytest.raises(AlreadyExists):
        state.result()
    assert fake.calls == 2 and _count(db) == 1  # one attempt (two connections), no retry


class LostAfterCommit:
    """Wraps service.connection: the connections numbered in ``lost`` are lost when the service call is done with
    them (its work committed, its answer lost), so the call raises a transient error and the task is retried."""

    def __init__(self, lost: set[int]) -> None:
        self.lost = lost
        self.calls = 0
        self._real = service.connection

    @contextmanager
    def __call__(self, dsn: str | None = None) -> Iterator[Any]:
        self.calls += 1
        number = self.calls
        with self._real(dsn) as conn:
            yield conn
        if number in self.lost:
            raise psycopg.OperationalError("server closed the connection unexpectedly (injected after the commit)")


CHANGES = ["ALTER TABLE users ADD COLUMN retried TEXT"]


@flow(persist_result=False)
def register_and_work(dsn: str) -> tuple[int, int | None, str]:
    run_id = str(flow_run.get_id())
    reg = intents.register_intent(dsn, "claude-retry", "after_commit", CHANGES, ["users"], "low", run_id)
    intents.start_work(dsn, reg.intent.id)
    done = work.apply_changes(dsn, reg.intent.id, CHANGES, "claude-retry: after_commit")
    return reg.intent.id, done.commit_id, run_id


def test_tasks_failing_after_their_commit_are_retried_without_doing_the_work_twice(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_users(db)
    # each call connects twice (as the admin to find the agent's role, then as the agent): the registration's
    # second connection (2) and the work's (8, after the retried registration's 3-4 and start-work's 5-6) are lost
    fake = LostAfterCommit({2, 8})
    monkeypatch.setattr(service, "connection", fake)
    intent_id, commit_id, run_id = register_and_work(db)
    assert fake.calls == 10  # two tasks ran twice
    assert _count(db) == 1
    with psycopg.connect(db, autocommit=True) as conn:
        intent = conn.execute("SELECT status, flow_run_id, branch_name FROM pggit.intents WHERE id = %s",
                              (intent_id,)).fetchone()
        assert intent is not None and intent[:2] == ("completed", run_id)
        commits = conn.execute("SELECT c.id FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id "
                               "WHERE b.name = %s AND b.status <> 'deleted'", (intent[2],)).fetchall()
        assert commits == [(commit_id,)]
        events = conn.execute("SELECT to_status FROM pggit.intent_events WHERE intent_id = %s ORDER BY id",
                              (intent_id,)).fetchall()
        assert [e[0] for e in events] == ["registered", "in_progress", "completed"]
        columns = conn.execute("SELECT count(*) FROM pggit.ddl_log l JOIN pggit.branches b ON b.id = l.branch_id "
                               "WHERE b.name = %s", (intent[2],)).fetchone()
        assert columns == (1,)


@pytest.mark.parametrize(("error", "transient"), [
    (psycopg.OperationalError("connection lost"), True),
    (psycopg.errors.SerializationFailure("40001"), True),
    (psycopg.errors.DeadlockDetected("40P01"), True),
    (psycopg.errors.LockNotAvailable("55P03"), True),
    (psycopg.errors.UndefinedTable("42P01"), False),
    (psycopg.errors.SyntaxError("42601"), False),
    (InvalidSQL("bad statement"), False),
    (ConflictsBlock("blocked"), False),
    (ValueError("not a database error"), False),
])
def test_is_transient_decides_by_class(error: BaseException, transient: bool) -> None:
    assert service.is_transient(error) is transient


def test_a_connection_failure_wrapping_a_lost_connection_is_transient() -> None:
    wrapped = ConnectionFailed("cannot connect")
    wrapped.__cause__ = psycopg.OperationalError("connection refused")
    assert service.is_transient(wrapped)
