"""A pay-day worker process for benchmarks/bench_scale.py: what a Celery worker on the payday queue
runs, without the broker, so the parent can start several at the same instant.

    python -m benchmarks.scale_worker batches TODAY ID,ID,…   # payday_batch_post for each batch
    python -m benchmarks.scale_worker run TODAY               # payday_run_recorded (beat's task)

The database comes from the environment (DATABASE_URL, and DATABASE_POOLER/DATABASE_DIRECT_URL
behind PgBouncer). It prints one JSON line when ready (with its backend's pid, for the parent's
lock sampling), waits for a line on stdin, does the work, and prints one JSON line of figures.
Every batch must come out paid, or it exits non-zero: a failed posting is never a time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date

from benchmarks.scratch import backend_cpu


def main() -> None:
    mode, today = sys.argv[1], date.fromisoformat(sys.argv[2])
    batch_ids = [int(x) for x in sys.argv[3].split(",")] if len(sys.argv) > 3 else []
    import django

    django.setup()
    from django.db import connection

    from apps.ledger.payday import payday_batch_post
    from apps.ledger.payday_recovery import payday_run_recorded

    if os.environ.get("BENCH_FEE_LOCK_LAST") == "1":
        # A what-if for docs/scaling.md, never the platform's behaviour: the posting takes no lock on
        # the fee-income row up front, so the row is locked only by the balance UPDATE at the end of
        # the posting and held to COMMIT. (Safe here because the bench's batches share no employee
        # account; the platform's up-front lock also orders employee-account locks.)
        from unittest import mock

        from apps.ledger.services import ledger_fee_income_account

        mock.patch("apps.ledger.payday.ledger_posting_lock", ledger_fee_income_account).start()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print(json.dumps({"ready": os.getpid(), "backend": backend}), flush=True)
    sys.stdin.readline()  # the parent's start signal: every worker begins at once

    cpu0, server0, t0 = time.process_time(), backend_cpu(backend), time.perf_counter()
    if mode == "batches":
        outcomes = [payday_batch_post(batch_id=batch_id, today=today) for batch_id in batch_ids]
    else:
        result = payday_run_recorded(today=today)
        outcomes = ["paid"] * len(result.paid) + ["failed"] * len(result.failed) + ["error"] * len(result.errors)
    wall = time.perf_counter() - t0
    figures = {"wall": wall, "cpu": time.process_time() - cpu0, "backend_cpu": backend_cpu(backend) - server0,
               "outcomes": outcomes}
    print(json.dumps(figures), flush=True)
    if any(outcome != "paid" for outcome in outcomes) or not outcomes:
        sys.exit(f"not every batch was paid: {outcomes}")


if __name__ == "__main__":
    main()
