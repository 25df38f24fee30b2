"""pggit._pick3: the one three-way pick of a value, which _merge3 (objects), _merge3_table (fields, columns)
and the proposal check (leaves) all decide with."""

from __future__ import annotations

import pytest

from tests.db.engine.helpers import Conn, one


@pytest.mark.parametrize("b, o, t, expected", [
    ("1", "1", "1", "ours"),        # nobody changed it
    ("1", "2", "1", "ours"),        # only ours changed it
    ("1", "1", "2", "theirs"),      # only theirs changed it
    ("1", "2", "2", "ours"),        # both made the same change
    ("1", "2", "3", "both"),        # both changed it differently
    (None, "1", None, "ours"),      # ours added it
    (None, None, "1", "theirs"),    # theirs added it
    (None, "1", "2", "both"),       # both added it differently
    ("1", None, "1", "ours"),       # ours removed it
    ("1", "1", None, "theirs"),     # theirs removed it
    ("1", None, "2", "both"),       # ours removed what theirs changed
])
def test_pick3(conn: Conn, b: str | None, o: str | None, t: str | None, expected: str) -> None:
    assert one(conn, "SELECT pggit._pick3(%s::jsonb, %s::jsonb, %s::jsonb)", b, o, t) == expected
