"""A worker that starts sweeps once: after a crash or a deploy, work left behind is requeued
without waiting for beat."""

from __future__ import annotations

from celery.signals import worker_ready

from apps.core.tasks import task_publish_at_worker_start


@worker_ready.connect
def sweep_on_worker_start(sender=None, **kwargs) -> None:
    from apps.intake.tasks import intake_sweep_task

    task_publish_at_worker_start(intake_sweep_task, what="intake")
