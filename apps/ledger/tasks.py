"""Thin Celery edges: read the business day, call one service."""

from __future__ import annotations

from celery import shared_task

from apps.core import clock
from apps.ledger.payday_recovery import payday_recover, payday_run_recorded


# No retry: a failed batch stays stored and the next beat (30 minutes) pays it; the run is rerun-safe.
# A run whose worker dies is started again by payday_recover (every sweep, and at worker start).
@shared_task(name="apps.ledger.tasks.payday_run")
def payday_run_task() -> dict[str, list[int]]:
    result = payday_run_recorded(today=clock.today())
    return {"paid": result.paid, "failed": result.failed, "skipped": result.skipped, "errors": result.errors}


@shared_task(name="apps.ledger.tasks.payday_recover")
def payday_recover_task() -> list[int]:
    return payday_recover()
