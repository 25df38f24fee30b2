#!/usr/bin/env bash
# Set up a fresh machine for pggit-flows: PostgreSQL server binaries (Debian's, when missing) and a
# virtual environment in .venv with the project and its dev tools. Safe to run again.
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
