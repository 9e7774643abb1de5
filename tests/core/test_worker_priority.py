"""The worker's pool processes yield the CPU to the kiosk's web server (config/celery.py, issue 15 P7)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import os; import config.celery as c; before = os.nice(0); c._pool_process_yields_cpu(); "
    "print(before, os.nice(0))"
)


def probe(**env: str) -> tuple[int, int]:
    # A process of its own: a lowered priority cannot be raised again without privileges.
    out = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True,  # noqa: S603
                         text=True, check=True)
    before, after = (int(v) for v in out.stdout.split())
    return before, after


def test_a_pool_process_runs_ten_steps_below_the_web_server():
    before, after = probe()
    assert after == min(before + 10, 19)


def test_nice_zero_keeps_the_priority():
    before, after = probe(CELERY_WORKER_NICE="0")
    assert after == before
