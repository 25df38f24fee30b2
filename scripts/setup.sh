#!/usr/bin/env bash
# Set up a fresh machine for pggit-flows: PostgreSQL server binaries (Debian's, when missing) and a
# virtual environment in .venv with the project and its dev tools, and plpgsql_check (the PL/pgSQL linter the
# tests run over every pggit function) for the PostgreSQL the tests use. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() {
    [ -n "${PGGIT_PG_BIN:-}" ] && return 0
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && return 0
    command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
    return 1
}

if ! have_pg; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing PostgreSQL server binaries (Debian's postgresql)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    else
        echo "PostgreSQL server binaries are missing: install PostgreSQL (e.g. 'sudo apt-get install postgresql')" >&2
        echo "or set PGGIT_DSN to an existing server." >&2
        exit 1
    fi
fi
# runuser (to run the server unprivileged when we are root), psql and jq (the seed's shell usage, tests).
missing=()
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing tools: ${missing[*]} (install them with your package manager)" >&2
        exit 1
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import pggit_core, prefect, pytest" >/dev/null 2>&1 || [ pyproject.toml -nt .venv/.installed ] \
        || [ constraints.txt -nt .venv/.installed ]; then
    echo "== installing pggit-flows and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    # constraints.txt pins every transitive package to versions known to work together (refresh it with
    # `.venv/bin/pip freeze --exclude-editable > constraints.txt` after changing dependencies).
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import pggit_core, prefect, pytest"
    touch .venv/.installed
fi

# plpgsql_check, for the server binaries the tests start (the same lookup as pggit_core/server.py).
pg_bin=$(.venv/bin/python -c "from pggit_core.server import find_bin_dir; print(find_bin_dir())")
pg_major=$("$pg_bin/postgres" -V | awk '{print $3}' | cut -d. -f1)
if [ -x "$pg_bin/pg_config" ]; then
    pg_share=$("$pg_bin/pg_config" --sharedir)
else
    pg_share=/usr/share/postgresql/$pg_major
fi
if [ ! -f "$pg_share/extension/plpgsql_check.control" ]; then
    package=postgresql-$pg_major-plpgsql-check
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        if ! apt-cache show "$package" >/dev/null 2>&1; then
            echo "plpgsql_check is not packaged for PostgreSQL $pg_major ($package not found): the tests lint" >&2
            echo "every pggit function with it. Install plpgsql_check for PostgreSQL $pg_major, or point" >&2
            echo "PGGIT_PG_BIN at a PostgreSQL for which it is packaged (Debian packages it for 15)." >&2
            exit 1
        fi
        echo "== installing $package (plpgsql_check, the PL/pgSQL linter of the tests)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    else
        echo "plpgsql_check is missing for PostgreSQL $pg_major ($pg_share/extension/plpgsql_check.control):" >&2
        echo "the tests lint every pggit function with it. Install it (e.g. 'sudo apt-get install $package')." >&2
        exit 1
    fi
    if [ ! -f "$pg_share/extension/plpgsql_check.control" ]; then
        echo "$package is installed but $pg_share/extension/plpgsql_check.control is still missing" >&2
        exit 1
    fi
fi
