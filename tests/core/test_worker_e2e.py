"""The task pipeline for real: on_commit → Redis → a Celery worker process → PostgreSQL."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.db import transaction

from apps.core.models import WorkerProbe
from apps.core.services import worker_probe_request
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _queued_messages() -> int:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)


def test_task_enqueued_on_commit_is_run_by_a_real_worker(live_worker):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")

    # A worker publishes its start-up sweeps, and earlier modules may leave a message: the live
    # worker takes them first, so that the count below sees only what this transaction publishes.
    wait_until(lambda: _queued_messages() == 0, timeout=30, what="the worker to empty the queue")
    with transaction.atomic():
        probe = worker_probe_request()
        # Nothing is published while the row is uncommitted: a worker could not find it yet.
        assert _queued_messages() == 0

    wait_until(
        lambda: WorkerProbe.objects.filter(pk=probe.pk, answered_at__isnull=False).exists(),
        timeout=30,
        what="the worker to answer the probe",
    )
    probe.refresh_from_db()
    # The answer carries the worker's node name: another process ran it, not eager mode.
    assert probe.answered_by.startswith(live_worker.extra["node_prefix"] + "@")
    assert live_worker.alive()


def test_rolled_back_transaction_enqueues_nothing(live_worker):
    before = WorkerProbe.objects.count()

    def request_then_fail() -> None:
        with transaction.atomic():
            worker_probe_request()
            raise RuntimeError("the request failed after the probe was written")

    with pytest.raises(RuntimeError):
        request_then_fail()
    assert WorkerProbe.objects.count() == before
    assert _queued_messages() == 0


def test_a_redelivered_probe_answer_changes_nothing(live_worker):
    from apps.core.services import worker_probe_answer

    probe = worker_probe_request()
    wait_until(
        lambda: WorkerProbe.objects.filter(pk=probe.pk, answered_at__isnull=False).exists(),
        timeout=30,
        what="the first answer",
    )
    probe.refresh_from_db()
    first = (probe.answered_at, probe.answered_by)
    assert worker_probe_answer(probe_id=probe.pk, worker="another@host") is False
    probe.refresh_from_db()
    assert (probe.answered_at, probe.answered_by) == first
