#!/usr/bin/env bash
# Run the whole suite against PostgreSQL and Redis on 127.0.0.1 (it makes its own test database).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
.venv/bin/ruff check .
set +e
.venv/bin/pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: a run that tested nothing is a failure here.
if [ "$status" -eq 5 ]; then echo "test: no test ran" >&2; exit 1; fi
exit "$status"
