"""A worker that starts looks for pay-day runs its predecessor left unfinished (after a crash or a
deploy), without waiting for beat's next sweep."""

from __future__ import annotations

from celery.signals import worker_ready

from apps.core.tasks import task_publish_at_worker_start


@worker_ready.connect
def payday_recover_on_worker_start(sender=None, **kwargs) -> None:
    from apps.ledger.tasks import payday_recover_task

    task_publish_at_worker_start(payday_recover_task, what="pay day (recovery)")
