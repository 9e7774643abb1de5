from __future__ import annotations

import logging

from celery import shared_task

from apps.core import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="apps.core.tasks.worker_probe_answer")
def worker_probe_answer_task(self, probe_id: int) -> bool:
    return services.worker_probe_answer(probe_id=probe_id, worker=self.request.hostname or "unknown")


def task_publish_at_worker_start(task, *, what: str) -> None:
    """Publish one sweep when a worker starts (intake's requeue, pay day's recovery), so work left
    behind by a crash or a deploy is taken up without waiting for beat. A broker hiccup at start is
    logged and must not stop the worker: beat's next sweep does the same work."""
    try:
        task.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001
        logger.warning("%s: no sweep at worker start (%s: %s)", what, type(exc).__name__, exc)
