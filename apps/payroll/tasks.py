"""Thin Celery tasks: each takes a primary key and calls one service. Business refusals are
recorded on the batch by the service; only unexpected errors surface here."""

from __future__ import annotations

from celery import shared_task

from apps.payroll.services.intake import payroll_batch_prevalidate
from apps.payroll.services.storing import payroll_batch_store
from apps.payroll.services.sweeper import payroll_batches_requeue_stuck


@shared_task(name="apps.payroll.tasks.payroll_prevalidate", acks_late=True)
def payroll_prevalidate_task(batch_id: int) -> None:
    payroll_batch_prevalidate(batch_id=batch_id)


@shared_task(name="apps.payroll.tasks.payroll_store", acks_late=True)
def payroll_store_task(batch_id: int) -> None:
    payroll_batch_store(batch_id=batch_id)


@shared_task(name="apps.payroll.tasks.payroll_sweep")
def payroll_sweep_task() -> list[int]:
    return payroll_batches_requeue_stuck()
