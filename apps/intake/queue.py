"""Handing work to the broker. The database row is the record of truth: a publish that fails
(broker down) is logged and left to the sweeper, never an error for the agent nor a lost file."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def intake_enqueue(*, kind: str, pk: int) -> bool:
    """Publish the work task for one record now; False if the broker could not take it."""
    from apps.intake.tasks import intake_work_task

    try:
        # No publish retry: with the broker down this fails within the connection timeout
        # (CELERY_BROKER_CONNECTION_TIMEOUT) instead of hanging the kiosk's request.
        intake_work_task.apply_async(args=(kind, pk), retry=False)
    except Exception as exc:  # noqa: BLE001 — any broker failure: the sweeper publishes it later
        logger.warning("intake: could not queue %s %s (%s: %s); the sweeper will", kind, pk,
                       type(exc).__name__, exc)
        return False
    return True


class Enqueued:
    """Whether the publish after commit reached the broker (None: not yet run, e.g. in a test
    that does not run on_commit callbacks)."""

    def __init__(self) -> None:
        self.ok: bool | None = None


def intake_enqueue_on_commit(*, kind: str, pk: int) -> Enqueued:
    outcome = Enqueued()

    def publish() -> None:
        outcome.ok = intake_enqueue(kind=kind, pk=pk)

    transaction.on_commit(publish)
    return outcome
