#!/usr/bin/env bash
# Run the demo on one machine (SQLite + filesystem broker): web server, worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python manage.py demo_run "$@"
