"""Work left in an in-between state (a killed worker, a lost message) is requeued, never lost."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now

from apps.payroll.models import BatchStatus, PayrollBatch


def payroll_batches_requeue_stuck(*, older_than: timedelta | None = None) -> list[int]:
    """Requeue batches whose validating or storing made no progress for ``older_than``
    (setting PAYROLL_STUCK_SECONDS). Claimed with a conditional UPDATE so two sweepers never
    requeue the same batch twice in one round."""
    from apps.payroll.tasks import payroll_prevalidate_task, payroll_store_task

    if older_than is None:
        older_than = timedelta(seconds=settings.PAYROLL_STUCK_SECONDS)
    # Compared with the database clock: a pinned business clock must not freeze timeouts.
    stale = PayrollBatch.objects.filter(
        status__in=[BatchStatus.VALIDATING, BatchStatus.STORING], status_changed_at__lt=Now() - older_than
    ).values_list("pk", "status", "status_changed_at")
    requeued = []
    for pk, status, changed_at in stale:
        claimed = PayrollBatch.objects.filter(pk=pk, status=status, status_changed_at=changed_at).update(
            status_changed_at=Now()
        )
        if not claimed:
            continue
        task = payroll_prevalidate_task if status == BatchStatus.VALIDATING else payroll_store_task
        transaction.on_commit(lambda task=task, pk=pk: task.delay(pk))
        requeued.append(pk)
    return requeued
