"""Work left in an in-between state (a killed worker, a lost message) is requeued, never lost."""

from __future__ import annotations

from datetime import timedelta

from celery import Task
from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Now

from apps.payroll.models import BatchStatus, PayrollBatch


def stuck_requeue(
    *, model: type[models.Model], tasks: dict[str, Task], older_than: timedelta | None = None
) -> list[int]:
    """Requeue rows of ``model`` left in one of ``tasks``' statuses with no progress for
    ``older_than`` (setting PAYROLL_STUCK_SECONDS), each with its status's task. Claimed with a
    conditional UPDATE so two sweepers never requeue the same row twice in one round."""
    if older_than is None:
        older_than = timedelta(seconds=settings.PAYROLL_STUCK_SECONDS)
    # Compared with the database clock: a pinned business clock must not freeze timeouts.
    stale = model.objects.filter(
        status__in=list(tasks), status_changed_at__lt=Now() - older_than
    ).values_list("pk", "status", "status_changed_at")
    requeued = []
    for pk, status, changed_at in stale:
        claimed = model.objects.filter(pk=pk, status=status, status_changed_at=changed_at).update(
            status_changed_at=Now()
        )
        if not claimed:
            continue
        task = tasks[status]
        transaction.on_commit(lambda task=task, pk=pk: task.delay(pk))
        requeued.append(pk)
    return requeued


def payroll_batches_requeue_stuck(*, older_than: timedelta | None = None) -> list[int]:
    """Payroll batches left in 入库中 (pre-validating or storing)."""
    from apps.payroll.tasks import payroll_prevalidate_task, payroll_store_task

    return stuck_requeue(model=PayrollBatch, older_than=older_than,
                         tasks={BatchStatus.VALIDATING: payroll_prevalidate_task,
                                BatchStatus.STORING: payroll_store_task})
