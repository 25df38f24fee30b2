#!/usr/bin/env bash
# Set up (if needed) and run the main job on an embedded PostgreSQL: no configuration needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
.venv/bin/pggit db start
.venv/bin/pggit init
.venv/bin/pggit status
