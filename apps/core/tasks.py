from __future__ import annotations

from celery import shared_task

from apps.core import services


@shared_task(bind=True, name="apps.core.tasks.worker_probe_answer")
def worker_probe_answer_task(self, probe_id: int) -> bool:
    return services.worker_probe_answer(probe_id=probe_id, worker=self.request.hostname or "unknown")
