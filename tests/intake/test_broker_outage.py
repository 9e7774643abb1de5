"""A broker that is down at upload or at 确认入库: the work is accepted and kept, the agent reads
已收到，系统稍后处理, and the sweeper queues it once the broker is back."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from kombu import pools

from apps.core.files import private_path
from apps.intake import queue
from apps.intake.sweeper import intake_sweep
from apps.intake.uploads import UPLOADS
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_confirm, payroll_batch_prevalidate, payroll_batch_submit
from config.celery import app
from tests.factories import CARD_PIN, CHECK_CODE, payroll_file_bytes, payroll_rows, upload
from tests.intake.test_work import stale

# Transactional: the publish after commit runs inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def _broker_use(url: str) -> None:
    app.conf.broker_url = app.conf.broker_write_url = url
    # The pools were made for the old URL; kombu keeps them in a registry: close and forget them.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _real_url() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL


@pytest.fixture
def broker_down():
    _broker_use(CLOSED_PORT_URL)
    yield
    _broker_use(_real_url())


@pytest.fixture
def agent_client(business_clock, our_agent) -> Client:
    client = Client()
    response = client.post("/", {"card": f";{our_agent.card_number}=28121010000000000000?", "pin": CARD_PIN})
    assert response.status_code == 302
    return client


def test_upload_while_the_broker_is_down_is_kept_and_swept_later(
    agent_client, our_agent, platform_keys, broker_down, monkeypatch
):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(3), bank=platform_keys["bank"])
    started = time.monotonic()
    response = agent_client.post("/payroll/upload/", {"agreement": our_agent.agreement.pk, "upload": upload(data)})
    print(f"upload answered in {time.monotonic() - started:.2f} s with the broker down")  # noqa: T201

    batch = PayrollBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/payroll/{batch.pk}/"
    page = agent_client.get(response["Location"]).content.decode()
    assert "已收到，系统稍后处理" in page
    assert batch.status == BatchStatus.VALIDATING
    assert private_path(UPLOADS, batch.stored_name).read_bytes() == data  # never deleted once committed

    # Still down: the sweeper cannot publish either, and keeps the batch for the next round.
    stale(batch)
    assert intake_sweep() == [("payroll", batch.pk)]
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.VALIDATING

    _broker_use(_real_url())  # the broker is back
    published = []
    monkeypatch.setattr(queue, "intake_enqueue", _recording(published, queue.intake_enqueue))
    stale(batch)
    assert intake_sweep() == [("payroll", batch.pk)]
    assert published == [("payroll", batch.pk, True)]
    assert payroll_batch_prevalidate(batch_id=batch.pk) is True  # what the worker does with it
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION



def _recording(calls: list, publish):
    def record(*, kind: str, pk: int) -> bool:
        ok = publish(kind=kind, pk=pk)
        calls.append((kind, pk, ok))
        return ok

    return record


def test_confirm_while_the_broker_is_down_is_kept(business_clock, our_agent, platform_keys, broker_down):
    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=platform_keys["bank"])
    batch = payroll_batch_submit(card=our_agent.card, agreement=our_agent.agreement, upload=upload(data))
    assert batch.queued is False
    payroll_batch_prevalidate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert payroll_batch_confirm(batch=batch, card=our_agent.card, checklist=CHECK_CODE) is False
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STORING  # accepted and kept: the sweeper queues the storing
    assert private_path("validated", batch.stored_name).exists()
