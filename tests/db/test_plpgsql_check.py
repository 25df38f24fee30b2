"""plpgsql_check over every PL/pgSQL function pggit installs: PL/pgSQL is linted as Python is.

Each function of schema pggit whose language is plpgsql is checked with `plpgsql_check_function_tb`: errors
(all of them, not only the first: `fatal_errors => false`), the other warnings (unused variables, assignments
of another type, a parameter overlapped by a variable, ...) and the extra warnings (a missing RETURN, dead
code, shadowed variables, never-read parameters, ...). Trigger functions are checked against the table their
trigger is on; event-trigger functions need no table.

Two of plpgsql_check's groups stay off, and why:
- performance warnings: the hidden casts they find (integer counters added to bigint totals, a char(1) state)
  cost nothing measurable, and "VOLATILE, should be STABLE" is plpgsql_check's guess over dynamic SQL;
- security warnings: every EXECUTE runs either a statement the caller asked pggit to run (an agent's DDL on
  its branch, a plan's steps) or one built with format('%I') / quote_ident, which plpgsql_check cannot see
  through. Identifiers are never built by string formatting (STYLE habit 8), and the tests run those paths.

The extension comes from Debian's postgresql-<major>-plpgsql-check, which scripts/setup.sh installs.
"""

from __future__ import annotations

import re

import psycopg
import pytest

_FUNCTIONS = """
SELECT p.oid, n.nspname || '.' || p.proname || '(' || replace(oidvectortypes(p.proargtypes), ', ', ',') || ')',
       t.typname AS returns,
       (SELECT min(tg.tgrelid::regclass::text) FROM pg_trigger tg WHERE tg.tgfoid = p.oid) AS trigger_table
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_type t ON t.oid = p.prorettype
 WHERE n.nspname = 'pggit' AND l.lanname = 'plpgsql'
 ORDER BY 2
"""

_CHECK = """
SELECT lineno, statement, sqlstate, message, detail, hint, level, context
  FROM public.plpgsql_check_function_tb(%s::regprocedure, %s::regclass,
       fatal_errors => false, other_warnings => true, extra_warnings => true,
       performance_warnings => false, security_warnings => false)
"""

# Findings judged not real, by function, listed exactly (a new finding fails as anywhere else, and an entry that
# no longer happens fails too: delete it). Empty: every PL/pgSQL function of pggit is clean.
KNOWN: dict[str, set[str]] = {}

_INITIALIZATION = re.compile(r'during statement block (local variable "[^"]+") initialization on line \d+')


def _finding(message: str, detail: str | None, context: str | None) -> str:
    """A finding without line numbers (they move with every edit): message, detail, the variable it is about."""
    text = message
    if detail:
        text += f" ({detail})"
    if context:
        variable = _INITIALIZATION.search(context)
        text += f" [{variable.group(1) if variable else context}]"
    return text


def _create_extension(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    try:
        conn.execute("CREATE EXTENSION plpgsql_check WITH SCHEMA public")
    except psycopg.errors.UndefinedFile as exc:
        pytest.fail(f"plpgsql_check is not installed for this PostgreSQL ({exc.diag.message_primary}): "
                    "run scripts/setup.sh (it installs Debian's postgresql-<major>-plpgsql-check)")


def test_every_plpgsql_function_of_pggit_passes_plpgsql_check(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    _create_extension(conn)
    functions = conn.execute(_FUNCTIONS).fetchall()
    assert len(functions) > 50, "the catalog query found too few pggit functions: it is wrong, not the code"
    found: dict[str, set[str]] = {}
    report: list[str] = []
    for oid, signature, returns, trigger_table in functions:
        if returns == "trigger" and trigger_table is None:
            report.append(f"{signature}: a trigger function on no table (attach it or check it against one)")
            continue
        rows = conn.execute(_CHECK, (oid, trigger_table if returns == "trigger" else 0)).fetchall()
        for lineno, statement, sqlstate, message, detail, hint, level, context in rows:
            text = _finding(str(message), detail and str(detail), context and str(context))
            found.setdefault(str(signature), set()).add(text)
            if text not in KNOWN.get(str(signature), set()):
                report.append(f"{signature} line {lineno} ({statement}): {level} {sqlstate}: {text}"
                              + (f"; hint: {hint}" if hint else ""))
    for signature, expected in KNOWN.items():
        for text in sorted(expected - found.get(signature, set())):
            report.append(f"{signature}: the known finding {text!r} no longer happens: delete it from KNOWN")
    assert not report, "plpgsql_check findings:\n" + "\n".join(report)
