"""Thin tasks: one that works a record in whatever working state it is in, and the sweeper."""

from __future__ import annotations

from celery import shared_task

from apps.intake.sweeper import intake_sweep
from apps.intake.work import intake_work_run


@shared_task(name="apps.intake.tasks.intake_work", acks_late=True)
def intake_work_task(kind: str, pk: int) -> str:
    return intake_work_run(kind=kind, pk=pk)


@shared_task(name="apps.intake.tasks.intake_sweep")
def intake_sweep_task() -> list[tuple[str, int]]:
    return intake_sweep()


@shared_task(name="apps.intake.tasks.intake_retention")
def intake_retention_task() -> int:
    from apps.intake.retention import intake_retention_run

    return intake_retention_run()
