#!/usr/bin/env bash
# Issue 15's one benchmark command: install the bench extras (django-import-export for P3, locust
# for P7, matplotlib for the growth plot), make sure PostgreSQL and Redis run, then
#   python -m benchmarks "$@"      e.g. --quick, --rows 100000, --only P1,P4, --json out.json, --growth
# Exits non-zero when a part FAILED. See docs/performance.md for what each row measures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Only when an extra is missing: pip's resolver on every run would cost more than --quick itself.
if ! .venv/bin/python -c 'import import_export, locust, matplotlib' 2>/dev/null; then
  echo "bench: installing the bench extras into .venv"
  .venv/bin/python -m pip install -q -e '.[test,bench]'
fi
bash scripts/services.sh
exec .venv/bin/python -m benchmarks "$@"
