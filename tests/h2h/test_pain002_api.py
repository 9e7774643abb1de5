"""ISO 20022 through the API: a pain.001 uploaded as its own kind, its pain.002 status report fetched
by the certificate that sent it; another company's certificate gets 404."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.payroll.models import BatchStatus, PayrollBatch
from apps.payroll.services.intake import payroll_batch_prevalidate
from payroll_exchange import iso20022 as iso
from tests.factories import payroll_file_bytes, payroll_rows
from tests.payroll.test_pain001 import sealed, xml_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(platform_keys):
    return platform_keys["bank"]


def test_pain001_upload_and_its_pain002(api_a, api_b, our_agent, bank, django_capture_on_commit_callbacks):
    data = sealed(our_agent, bank, xml_for(our_agent, payroll_rows(2), msg_id="ERP-API-1"))
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(data, kind="pain001", key="p-1")
    assert response.status_code == 202, response.json()
    batch = PayrollBatch.objects.get(pk=response.json()["id"])
    assert api_a.get(f"/batches/{batch.pk}/pain002/").status_code == 404  # not read yet
    payroll_batch_prevalidate(batch_id=batch.pk)
    assert PayrollBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_CONFIRMATION

    report = api_a.get(f"/batches/{batch.pk}/pain002/")
    assert report.status_code == 200
    assert report["Content-Type"] == "application/xml"
    iso.pain002_validate(report.content)
    assert b"<GrpSts>ACTC</GrpSts>" in report.content
    assert b"<OrgnlMsgId>ERP-API-1</OrgnlMsgId>" in report.content
    assert AuditEvent.objects.filter(action="pain002_download", object_id=str(batch.pk), actor_kind="cert").exists()

    other = api_b.get(f"/batches/{batch.pk}/pain002/")
    assert other.status_code == 404
    assert other.json()["code"]


def test_a_payroll_file_has_no_pain002(api_a, our_agent, bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.upload(payroll_file_bytes(party=our_agent, rows=payroll_rows(2), bank=bank))
    batch_id = response.json()["id"]
    payroll_batch_prevalidate(batch_id=batch_id)
    assert api_a.get(f"/batches/{batch_id}/pain002/").status_code == 404
