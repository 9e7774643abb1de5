"""Pay day that survives its worker: every run is recorded and holds a PostgreSQL advisory lock
(session level, so PostgreSQL lets go of it the moment the worker's connection ends, however it
ends). The recovery sweep, run with the intake sweeper every INTAKE_SWEEP_SECONDS and when a worker
starts, finds unfinished runs whose lock is free and starts a new run. Pay day is rerun-safe (each
batch is one transaction that re-checks it is still stored), so a spare run pays nothing twice.

Measured by tests/faults/test_payday_faults.py: a worker SIGKILLed at four points of posting,
the batch paid by the recovered run well inside 60 s, instead of at the next beat run (30 min).
On SQLite (the demo) there are no advisory locks: runs are recorded, recovery is beat's next run.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models.functions import Now

from apps.ledger.models import PaydayRun
from apps.ledger.payday import PaydayResult, payday_run

logger = logging.getLogger(__name__)

# The first key of pg_advisory_lock(int4, int4); the second is the run's id.
_LOCK_CLASS = 70_1001


def _advisory(sql: str, run_id: int) -> bool:
    # A session lock lives on the server session it was taken on. Behind PgBouncer in transaction
    # mode (DATABASE_POOLER) that session serves other clients after each commit: the unlock could
    # land on another one (the lock leaks) and another client's sweep could take it again
    # (re-entrant) and call a live run abandoned. So the lock goes over SESSION_LOCK_DATABASE: the
    # default connection, or behind a pooler the direct one that stays this worker's.
    with connections[settings.SESSION_LOCK_DATABASE].cursor() as cursor:
        cursor.execute(sql, [_LOCK_CLASS, run_id])
        return bool(cursor.fetchone()[0])


def payday_run_recorded(*, today: date) -> PaydayResult:
    """Pay day as beat and the recovery start it: recorded, and locked for as long as it runs."""
    postgres = connection.vendor == "postgresql"
    # The row and the lock are made in one transaction, so the sweep never sees a run without its lock.
    with transaction.atomic():
        run = PaydayRun.objects.create()
        if postgres:
            _advisory("SELECT pg_advisory_lock(%s, %s)", run.pk)
    try:
        return payday_run(today=today)
    finally:
        PaydayRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=Now(), outcome=PaydayRun.Outcome.DONE)
        if postgres:
            _advisory("SELECT pg_advisory_unlock(%s, %s)", run.pk)


def payday_recover() -> list[int]:
    """Mark every run whose worker is gone as abandoned and, if there was one, start pay day again.
    Returns the abandoned runs' ids."""
    if connection.vendor != "postgresql":
        return []
    abandoned = []
    for run_id in PaydayRun.objects.filter(finished_at__isnull=True).values_list("pk", flat=True):
        if not _advisory("SELECT pg_try_advisory_lock(%s, %s)", run_id):
            continue  # its worker is alive and holds it
        _advisory("SELECT pg_advisory_unlock(%s, %s)", run_id)
        # Conditional: of two sweeps at once, one marks it and starts the next run.
        if PaydayRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
                finished_at=Now(), outcome=PaydayRun.Outcome.ABANDONED):
            abandoned.append(run_id)
    if abandoned:
        from apps.ledger.tasks import payday_run_task

        logger.error("pay day: run(s) %s lost their worker; starting pay day again", abandoned)
        try:
            payday_run_task.apply_async(retry=False)
        except Exception as exc:  # noqa: BLE001 — broker down: beat's next run pays, as before
            logger.warning("pay day: could not start the recovery run (%s: %s)", type(exc).__name__, exc)
    return abandoned
