"""What a certificate may reach: only the agreements bound to it with 银企直连 enabled (bank staff
switch it on in admin, audited), and only their records; another company's answer is 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from apps.agreements.models import Agreement
from apps.core.models import AuditEvent
from apps.employees.models import EmployeeFile
from apps.employees.services import employee_file_open
from apps.h2h.models import IdempotencyKey
from apps.payroll.models import PayrollBatch
from tests.factories import (
    employee_file_bytes,
    employee_rows,
    payroll_file_bytes,
    payroll_rows,
    settlement_account_open,
)
from tests.h2h.conftest import ApiClient, cert_header, h2h_enable

pytestmark = pytest.mark.django_db


def test_other_company_gets_404_for_every_employee_file_of_a(api_a, api_b, our_agent, platform_keys,
                                                             django_capture_on_commit_callbacks):
    data = employee_file_bytes(party=our_agent, rows=employee_rows(2), bank=platform_keys["bank"])
    with django_capture_on_commit_callbacks(execute=False):
        file_id = api_a.upload(data, kind="employees", key="e-1").json()["id"]
    employee_file_open(file_id=file_id)
    response = api_b.get(f"/employee-files/{file_id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    for path in (f"/employee-files/{file_id}/confirm/", f"/employee-files/{file_id}/cancel/"):
        refused = api_b.post(path, key=path)
        assert (refused.status_code, refused.json()["code"]) == (404, "not_found"), path
    assert api_b.get("/employee-files/", QUERY_STRING="upload_date=2026-12-01").json() == []
    assert EmployeeFile.objects.get(pk=file_id).status == "awaiting_confirmation"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["e-1"]  # A's upload only


@pytest.fixture
def second_agreement(our_agent) -> Agreement:
    """Company A's second agreement (another settlement account), bound to the same certificate."""
    from apps.agreements.services import agreement_create

    settlement_account_open(number="310066001800009", company=our_agent.company)
    return agreement_create(
        company=our_agent.company, number="DF0009", payer_unit_no="U31009", start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31), fee_per_payment=Decimal("0.50"), single_limit=Decimal("50000.00"),
        settlement_account="310066001800009", certificate=our_agent.agreement.certificate)


def test_a_certificate_bound_to_two_agreements_names_the_one_it_uploads_for(
        client, our_agent, second_agreement, business_clock, platform_keys, django_capture_on_commit_callbacks):
    from apps.agreements.services import agreement_h2h_set

    h2h_enable(our_agent)
    api = ApiClient(client, cert_header(our_agent.identity))
    # Only the enabled one is listed until staff enable the second.
    assert [a["number"] for a in api.get("/agreements/").json()] == ["DF0001"]
    agreement_h2h_set(agreement=second_agreement, enabled=True, actor="test-staff")
    assert [a["number"] for a in api.get("/agreements/").json()] == ["DF0001", "DF0009"]

    data = payroll_file_bytes(party=our_agent, rows=payroll_rows(1), bank=platform_keys["bank"])
    unnamed = api.upload(data, key="u-1")
    assert (unnamed.status_code, unnamed.json()["code"], unnamed.json()["field"]) == (
        400, "agreement_required", "agreement")
    assert not PayrollBatch.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        named = api.upload(data, key="u-2", QUERY_STRING="agreement=DF0001")
    assert named.status_code == 202, named.json()
    assert PayrollBatch.objects.get().agreement_id == our_agent.agreement.pk


def test_staff_enable_host_to_host_in_admin_audited(client, our_agent, bank_staff, business_clock):
    """Given a clerk with the change permission, when they run 开通银企直连 on A's agreement in admin,
    the certificate is let in and the audit names the clerk; a clerk who may only view cannot."""
    api = ApiClient(client, cert_header(our_agent.identity))
    assert api.get("/agreements/").json()["code"] == "h2h_not_enabled"
    changelist = "/admin/agreements/agreement/"
    form = {"action": "h2h_enable", "_selected_action": [our_agent.agreement.pk]}

    bank_staff.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    client.force_login(bank_staff)
    client.post(changelist, form)
    assert Agreement.objects.get(pk=our_agent.agreement.pk).h2h_enabled is False
    assert not AuditEvent.objects.filter(action="agreement_h2h_enable").exists()

    bank_staff.user_permissions.add(Permission.objects.get(codename="change_agreement"))
    response = client.post(changelist, form)
    assert response.status_code == 302
    assert Agreement.objects.get(pk=our_agent.agreement.pk).h2h_enabled is True
    audit = AuditEvent.objects.get(action="agreement_h2h_enable")
    assert (audit.actor_kind, audit.actor, audit.object_id) == ("staff", "clerk01", str(our_agent.agreement.pk))
    client.logout()
    assert [a["number"] for a in api.get("/agreements/").json()] == ["DF0001"]
