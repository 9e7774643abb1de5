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
    body = refused.json()
    # The kiosk's code, in the API's words: the parameter to send, not the kiosk's checkbox.
    assert (body["code"], body["field"]) == ("suspected_duplicate_unacknowledged", "acknowledge_duplicate")
    assert body["message"]["zh"] == ("疑似重复发放：此文件的明细和金额与已发放批次 GZ202611 完全相同。"
                                     "请核实确需再次发放后，以 acknowledge_duplicate=true 重新请求确认入库"
                                     "（使用新的 Idempotency-Key）；否则请撤消此批次。")
    assert "acknowledge_duplicate=true" in body["message"]["en"]
    assert "GZ202611" in body["message"]["en"]
    for kiosk_word in ("勾选", "我已核实"):
        assert kiosk_word not in body["message"]["zh"]
    assert "tick" not in body["message"]["en"]
    assert PayrollBatch.objects.get(pk=batch_id).status == BatchStatus.AWAITING_CONFIRMATION
    assert AuditEvent.objects.count() == audits

    with django_capture_on_commit_callbacks(execute=False):
        confirmed = api_a.post(f"/batches/{batch_id}/confirm/?acknowledge_duplicate=true", key="c-2")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "storing"
    event = AuditEvent.objects.get(action="payroll_confirm", object_id=str(batch_id))
    assert (event.actor_kind, event.detail["suspected_duplicate_acknowledged"]) == ("cert", True)
