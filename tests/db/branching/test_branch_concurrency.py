"""Ten branches created at once from separate sessions all succeed and are exact copies."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pggit_core import branching
from tests.db.branching.helpers import Conn, snapshot


def test_ten_branches_at_once(kitchen: Conn, connect: Callable[[], Conn]) -> None:
    sessions = [connect() for _ in range(10)]
    barrier = threading.Barrier(len(sessions))
    failures: list[BaseException] = []

    def make(i: int, session: Conn) -> None:
        try:
            barrier.wait()
            branching.create_branch(session, f"agent/parallel-{i}")
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=make, args=(i, s)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    names = {b.name for b in branching.list_branches(kitchen)}
    assert names == {"main"} | {f"agent/parallel-{i}" for i in range(10)}
    main_doc = snapshot(kitchen)
    for i in range(10):
        assert snapshot(kitchen, f"agent/parallel-{i}") == main_doc
    # they all start from the same commit of main
    bases = kitchen.execute("SELECT count(DISTINCT base_commit_id) FROM pggit.branches WHERE name <> 'main'")
    assert bases.fetchone() == (1,)


def test_same_name_at_once_one_wins(kitchen: Conn, connect: Callable[[], Conn]) -> None:
    sessions = [connect() for _ in range(4)]
    barrier = threading.Barrier(len(sessions))
    outcomes: list[str] = []

    def make(session: Conn) -> None:
        barrier.wait()
        try:
            branching.create_branch(session, "agent/contended")
            outcomes.append("created")
        except Exception as exc:  # the losers must get AlreadyExists
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=make, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["AlreadyExists"] * 3 + ["created"]
