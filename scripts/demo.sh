#!/usr/bin/env bash
# Set up (if needed) and run the main job: the multi-agent coordinator demo as a Prefect flow, on an
# embedded PostgreSQL started for you (data in .pggit/). No configuration needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
.venv/bin/pggit db start
.venv/bin/pggit init
.venv/bin/pggit demo "$@"
