"""A worker that starts sweeps once: after a crash or a deploy, work left behind is requeued
without waiting for beat."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def sweep_on_worker_start(sender=None, **kwargs) -> None:
    from apps.intake.tasks import intake_sweep_task

    try:
        intake_sweep_task.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 — a broker hiccup at start must not stop the worker
        logger.warning("intake: no sweep at worker start (%s: %s)", type(exc).__name__, exc)
