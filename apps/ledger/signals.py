"""A worker that starts looks for pay-day runs its predecessor left unfinished (after a crash or a
deploy), without waiting for beat's next sweep."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def payday_recover_on_worker_start(sender=None, **kwargs) -> None:
    from apps.ledger.tasks import payday_recover_task

    try:
        payday_recover_task.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 — a broker hiccup at start must not stop the worker
        logger.warning("pay day: no recovery sweep at worker start (%s: %s)", type(exc).__name__, exc)
