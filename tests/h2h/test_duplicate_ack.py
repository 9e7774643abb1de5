"""疑似重复发放 over the host-to-host API: the same rows and amounts as the paid batch under a new batch
number are confirmed only with ?acknowledge_duplicate=true; refused without it, nothing changed."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from tests.factories import payroll_file_bytes
from tests.kiosk.test_changes_funding import november_rows, paid_batch

pytestmark = pytest.mark.django_db


def test_api_confirm_of_a_suspected_duplicate_needs_the_acknowledgement(api_a, our_agent, platform_keys,
                                                                         django_capture_on_commit_callbacks):
    paid_batch(our_agent, november_rows())
    data = payroll_file_bytes(party=our_agent, rows=november_rows(), bank=platform_keys["bank"],
                              batch_no="GZ202611B")
    with django_capture_on_commit_callbacks(execute=False):
        batch_id = api_a.upload(data).json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    audits = AuditEvent.objects.count()

    refused = api_a.post(f"/batches/{batch_id}/confirm/", key="c-1")
    assert refused.status_code == 409, refused.json()  # the API answers a refusal of the service so
    assert refused.json()["code"] == "suspected_duplicate_unacknowledged"
    assert "疑似重复发放" in refused.json()["message"]["zh"]
    assert PayrollBatch.objects.get(pk=batch_id).status == BatchStatus.AWAITING_CONFIRMATION
    assert AuditEvent.objects.count() == audits

    with django_capture_on_commit_callbacks(execute=False):
        confirmed = api_a.post(f"/batches/{batch_id}/confirm/?acknowledge_duplicate=true", key="c-2")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "storing"
    event = AuditEvent.objects.get(action="payroll_confirm", object_id=str(batch_id))
    assert (event.actor_kind, event.detail["suspected_duplicate_acknowledged"]) == ("cert", True)
