"""An Idempotency-Key is kept 24 h: within them the same key replays or refuses (422); after them
it is free again and the request is simply run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.h2h.models import IdempotencyKey
from apps.payroll.models import PayrollBatch
from tests.factories import payroll_file_bytes, payroll_rows

pytestmark = pytest.mark.django_db


def age_keys(hours: float) -> None:
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=hours))


@pytest.fixture
def first_upload(api_a, our_agent, platform_keys, django_capture_on_commit_callbacks) -> dict:
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=platform_keys["bank"])
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(data, key="day-key")
    assert response.status_code == 202, response.json()
    return response.json()


def other_file(our_agent, platform_keys) -> bytes:
    return payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"], batch_no="B2")


def test_within_24_hours_the_key_still_refuses_another_request(api_a, our_agent, platform_keys, first_upload):
    age_keys(23.9)
    response = api_a.upload(other_file(our_agent, platform_keys), key="day-key")
    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")
    assert list(PayrollBatch.objects.values_list("pk", flat=True)) == [first_upload["id"]]


def test_after_24_hours_the_key_is_free_for_a_new_request(api_a, our_agent, platform_keys, first_upload,
                                                          django_capture_on_commit_callbacks):
    age_keys(24.1)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(other_file(our_agent, platform_keys), key="day-key")
    assert response.status_code == 202, response.json()
    assert "Idempotent-Replayed" not in response
    assert response.json()["id"] != first_upload["id"]
    assert PayrollBatch.objects.count() == 2
    # One row for the key: the expired one made room for the new answer.
    stored = IdempotencyKey.objects.get(key="day-key")
    assert stored.body["id"] == response.json()["id"]


def test_the_nightly_purge_drops_only_expired_keys(api_a, our_agent, platform_keys, first_upload,
                                                   django_capture_on_commit_callbacks):
    from apps.h2h.tasks import idempotency_keys_purge_task
    from config.schedule import beat_schedule

    age_keys(25)
    data = other_file(our_agent, platform_keys)  # sealing again gives other bytes: keep one envelope
    with django_capture_on_commit_callbacks(execute=False):
        fresh = api_a.upload(data, key="fresh-key")
    assert idempotency_keys_purge_task.apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh-key"]
    replayed = api_a.upload(data, key="fresh-key")
    assert (replayed.json(), replayed["Idempotent-Replayed"]) == (fresh.json(), "true")
    assert PayrollBatch.objects.count() == 2
    entry = beat_schedule(payday_interval_minutes=5, sweep_seconds=15)["h2h-idempotency-purge"]
    assert entry["task"] == idempotency_keys_purge_task.name
