"""Tasks retry with backoff on transient database errors only; pggit errors fail at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest
from prefect import flow

from pggit_core import service
from pggit_core.errors import AlreadyExists, ConflictsBlock, ConnectionFailed, InvalidSQL
from tasks import intents

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
