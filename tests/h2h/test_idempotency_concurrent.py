"""Two POSTs with one Idempotency-Key at once make one batch: the second either waits for nothing
(409 while the first holds the key's lock) or replays the first's answer once it committed."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection
from django.test import Client

from apps.h2h.idempotency import lock_token
from apps.h2h.models import IdempotencyKey
from apps.payroll.models import PayrollBatch
from tests.factories import payroll_file_bytes, payroll_rows
from tests.h2h.conftest import ApiClient, cert_header, h2h_enable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_publish(monkeypatch):
    """Committed uploads here would publish real tasks into the run's queue, which no worker of
    this module consumes (and a later test asserts empty): record them instead."""
    published: list[tuple[str, int]] = []
    monkeypatch.setattr("apps.intake.uploads.intake_enqueue",
                        lambda *, kind, pk: published.append((kind, pk)) or True)
    return published


@pytest.fixture
def api(our_agent, business_clock) -> ApiClient:
    h2h_enable(our_agent)
    return ApiClient(Client(), cert_header(our_agent.identity))


def test_a_key_being_processed_answers_409_and_stores_nothing(api, our_agent, platform_keys):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=platform_keys["bank"])
    db = connection.settings_dict
    # Another session holds the key's lock, as a first request still running would.
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as first:
        first.execute("BEGIN")
        first.execute("SELECT pg_advisory_xact_lock(%s)", [lock_token(our_agent.agreement.certificate_id, "busy")])
        response = api.upload(data, key="busy")
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_in_progress"
        assert not PayrollBatch.objects.exists()
        first.execute("ROLLBACK")
    assert api.upload(data, key="busy").status_code == 202
    assert PayrollBatch.objects.count() == 1


def test_two_concurrent_posts_with_one_key_make_one_batch(our_agent, business_clock, platform_keys):
    h2h_enable(our_agent)
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=platform_keys["bank"])
    header = cert_header(our_agent.identity)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        client = ApiClient(Client(), header)
        barrier.wait(timeout=30)
        try:
            response = client.upload(data, key="race")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    assert PayrollBatch.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    codes = sorted(code for code, _ in answers)
    assert codes in ([202, 202], [202, 409])
    accepted = [body for code, body in answers if code == 202]
    assert all(body["id"] == PayrollBatch.objects.get().pk for body in accepted)
