"""Thin Celery edges: read the business day, call one service."""

from __future__ import annotations

from celery import shared_task

from apps.core import clock
from apps.ledger.payday import payday_run


# No retry: a failed batch stays stored and the next beat (30 minutes) pays it; the run is rerun-safe.
@shared_task(name="apps.ledger.tasks.payday_run")
def payday_run_task() -> dict[str, list[int]]:
    result = payday_run(today=clock.today())
    return {"paid": result.paid, "failed": result.failed, "skipped": result.skipped, "errors": result.errors}
