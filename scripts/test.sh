#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite against a real PostgreSQL started for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
